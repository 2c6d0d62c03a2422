"""Opaque, signed page tokens bound to the request that produced them.

The spec: "When paginating, all other parameters must match the call that provided the page
token." A token carries the repo, the page size and an offset into the newest-first list, and a
signature, so a client cannot forge or edit one. Because it is an offset, runs created while a
client pages push older runs down: the next page starts with runs the previous one already had.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass


class BadPageToken(ValueError):
    """The token is not one this server issued, or belongs to other request parameters."""


@dataclass(frozen=True)
class PageToken:
    repo_id: str
    page_size: int
    offset: int


class PageTokens:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def issue(self, token: PageToken) -> str:
        payload = base64.urlsafe_b64encode(
            json.dumps([token.repo_id, token.page_size, token.offset], separators=(",", ":")).encode()
        ).decode().rstrip("=")
        return f"{payload}.{self._sign(payload)}"

    def read(self, raw: str, repo_id: str, page_size: int) -> PageToken:
        payload, _, signature = raw.partition(".")
        if not payload or not hmac.compare_digest(signature, self._sign(payload)):
            raise BadPageToken("page_token is invalid")
        try:
            repo, size, offset = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        except (ValueError, TypeError):
            raise BadPageToken("page_token is invalid") from None
        if repo != repo_id or size != page_size:
            raise BadPageToken("page_token does not match the request: other parameters must be the same "
                               "as in the call that returned it")
        return PageToken(repo, size, offset)

    def _sign(self, payload: str) -> str:
        return hmac.new(self._secret, payload.encode(), hashlib.sha256).hexdigest()[:24]
