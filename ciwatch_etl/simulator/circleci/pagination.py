"""Token pagination as CircleCI does it: `{"items": [...], "next_page_token": ...}`, next page via
`?page-token=`.

Tokens are opaque to clients; here they carry the sort key of the last item served (keyset
pagination), so a page asked for after new runs arrived (`Simulator.advance`) continues exactly
where the previous one stopped: no item twice, none skipped.

On the last page the spec says `next_page_token: null`; live responses of some endpoints leave
the key out instead, so each endpoint says which it does (`LastPage`).
"""

from __future__ import annotations

import base64
import binascii
import enum
import json
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any, TypeVar

from ciwatch_etl.simulator.circleci.wire import BadRequest

T = TypeVar("T")
Key = tuple[str, ...]

PIPELINES_PAGE_SIZE = 20  # GET /project/{slug}/pipeline, like CircleCI's
WORKFLOW_RUNS_PAGE_SIZE = 30  # GET /insights/{slug}/workflows/{name}
METRICS_PAGE_SIZE = 20  # Insights summary and job metrics: one page in this world (3 workflows, <= 10 jobs)
LIST_PAGE_SIZE = 20  # workflows of a pipeline, jobs of a workflow: always one page here


class LastPage(enum.Enum):
    NULL = "null"  # "next_page_token": null, as the spec says
    ABSENT = "absent"  # no next_page_token key at all, as some live responses have it


def encode_token(key: Key) -> str:
    raw = json.dumps(list(key), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(params: dict[str, str]) -> Key | None:
    """The key after which the requested page starts; None for the first page (also for an
    empty `page-token=`, which the spec allows)."""
    token = params.get("page-token") or None
    if token is None:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise BadRequest("Invalid page-token.") from None
    if not isinstance(key, list) or not key or not all(isinstance(part, str) for part in key):
        raise BadRequest("Invalid page-token.")
    return tuple(key)


def envelope(items: list[dict[str, Any]], next_key: Key | None, last_page: LastPage) -> dict[str, Any]:
    body: dict[str, Any] = {"items": items}
    if next_key is not None:
        body["next_page_token"] = encode_token(next_key)
    elif last_page is LastPage.NULL:
        body["next_page_token"] = None
    return body


def page_of(items: Iterable[T], key: Callable[[T], Key], after: Key | None, size: int, *,
            descending: bool = True) -> tuple[list[T], Key | None]:
    """One page from `items`, which come in key order (descending unless told otherwise); and the
    key to continue after, or None when nothing follows. Reads at most one item beyond the page."""
    page: list[T] = []
    for item in items:
        if after is not None and (key(item) >= after if descending else key(item) <= after):
            continue
        if len(page) == size:
            return page, key(page[-1])
        page.append(item)
    return page, None


def newest_first_by_day(days_newest_first: Iterable[date], items_on: Callable[[date], list[T]],
                        key: Callable[[T], Key], after: Key | None) -> Iterable[T]:
    """Items day by day, newest day first, each day's in descending key order. A key's first
    part is its item's day (ISO), so days after the continuation key's are not even generated."""
    try:
        resume_day = None if after is None else date.fromisoformat(after[0][:10])
    except ValueError:
        raise BadRequest("Invalid page-token.") from None
    return (
        item
        for day in days_newest_first
        if resume_day is None or day <= resume_day
        for item in sorted(items_on(day), key=key, reverse=True)
    )
