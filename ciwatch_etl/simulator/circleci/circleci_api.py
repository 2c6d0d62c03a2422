"""The CircleCI API origin (`/api/v2`): routing, authentication and the API faults.

Endpoints register as `Route`s; everything they share (token check, injected faults, the error
bodies CircleCI answers with) happens here once, before a route's handler runs.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import unquote

from ciwatch_etl.simulator.faults import Faults, NotFound, RateLimit, ServerError, Slow
from ciwatch_etl.simulator.http_base import Request, Response
from ciwatch_etl.simulator.circleci.wire import BadRequest

API_PREFIX = "/api/v2"
# `vcs-slug/org-name/repo-name`; "The `/` characters may be URL-escaped" (the spec).
PROJECT_SLUG = r"(?P<slug>[^/]+(?:/|%2[fF])[^/]+(?:/|%2[fF])[^/]+)"


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]  # matched against the path after API_PREFIX
    handler: Callable[[Request, re.Match[str]], Response]


def message(status: int, text: str, headers: dict[str, str] | None = None) -> Response:
    """CircleCI's error envelope: `{"message": "..."}`."""
    return Response.json(status, {"message": text}, headers)


def rate_limited(retry_after: int, *, plain_text: bool = False) -> Response:
    headers = {"Retry-After": str(retry_after)}
    if plain_text:
        return Response.text(429, "Rate limit exceeded", headers=headers)
    return message(429, "Rate limit exceeded.", headers)


def server_error(status: int) -> Response:
    if status == 500:
        return message(500, "Internal server error.")
    # Gateway errors come from the load balancer, as HTML rather than the API's JSON.
    reason = f"{status} {HTTPStatus(status).phrase}"
    return Response.text(status, f"<html><head><title>{reason}</title></head><body><h1>{reason}</h1></body></html>",
                         content_type="text/html")


class CircleCIApi:
    def __init__(self, token: str, faults: Faults, routes: Sequence[Route]) -> None:
        self._token = token
        self._faults = faults
        self._routes = list(routes)

    def __call__(self, request: Request) -> Response:
        # Aimed faults match the decoded path: a slug may arrive with its `/` URL-escaped.
        path = unquote(request.path)
        slow = self._faults.take(Slow, path)
        if slow is not None:
            time.sleep(slow.seconds)
        limited = self._faults.take(RateLimit, path)
        if limited is not None:
            return rate_limited(limited.retry_after, plain_text=limited.plain_text)
        failing = self._faults.take(ServerError, path)
        if failing is not None:
            return server_error(failing.status)
        if self._faults.take(NotFound, path) is not None:
            return message(404, "Project not found")

        if not request.path.startswith(API_PREFIX + "/"):
            return message(404, "Not found.")
        path = request.path[len(API_PREFIX):]
        matches = [(route, m) for route in self._routes if (m := route.pattern.fullmatch(path))]
        if not matches:
            return message(404, "Not found.")
        denied = self._authentication_error(request)
        if denied is not None:
            return denied
        for route, match in matches:
            if route.method == request.method:
                try:
                    return route.handler(request, match)
                except BadRequest as invalid:
                    return message(400, str(invalid))
        return message(405, "Method not allowed.")

    def _authentication_error(self, request: Request) -> Response | None:
        token = request.headers.get("circle-token")
        if token is None:
            token = _basic_auth_username(request.headers.get("authorization", ""))
        if token is None and "circle-token" in request.params:
            return message(401, "Support for query parameter authentication has been deprecated to improve "
                                "security. Please use a supported authentication method such as header-based, "
                                "or basic authentication.")
        if token is None or not hmac.compare_digest(token.encode(), self._token.encode()):
            return message(401, "Invalid token provided.")
        return None


def _basic_auth_username(header: str) -> str | None:
    """The spec's basic auth: the token is the username, the password is empty."""
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    return decoded.partition(":")[0]
