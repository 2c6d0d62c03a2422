"""Reading CircleCI API v2 listings: token pagination, the JSON client, and what a pull gathered.

Every list endpoint answers `{"items": [...], "next_page_token": "<token>" | null}` and takes the
token back as `page-token`. Paging stops on a null or absent token, on an empty page, and on a
token the server already gave (a server bug must not make a nightly run loop forever); a
listing still going after `RetryPolicy.max_pages` pages (a new token every time) fails naming
its request.

Shared by the Insights and pipeline clients: a pull visits many projects and listings; one that
fails (after `send`'s retries) is noted as a `PullFailure` by project, request and page, and the
pull carries on. A 404 (a deleted project or pipeline) is a skip, not an error.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from ciwatch_etl.sources.circleci.usage_export import DEFAULT_API_URL
from ciwatch_etl.sources.http import ApiError, Deadline, RetryPolicy, api_client, send
from ciwatch_etl.sources.items import Items, Pair


@dataclass(frozen=True)
class Page:
    number: int  # 1-based, as reported in failures and source names
    items: list[dict[str, Any]]


class PageError(ApiError):
    """A page of a listing that could not be read (after retries); `page` says which."""

    def __init__(self, message: str, status: int | None, page: int):
        super().__init__(message, status)
        self.page = page


def iter_pages(
    fetch: Callable[[str | None], dict[str, Any]],
    items_key: str = "items",
    *,
    max_pages: int | None = None,
    where: str = "the listing",
) -> Iterator[Page]:
    """Pages of one listing, lazily: a caller may stop early (e.g. once pages get too old).

    `fetch(token)` returns one decoded response body (`token` is None for the first page);
    `PageError` past `max_pages` pages names `where` (the request).
    """
    token: str | None = None
    seen: set[str] = set()
    number = 0
    while True:
        number += 1
        if max_pages is not None and number > max_pages:
            raise PageError(f"{where}: still a next_page_token after {max_pages} pages; stopped "
                            "(CIWATCH_MAX_PAGES)", None, number)
        try:
            body = fetch(token)
        except ApiError as exc:
            raise PageError(str(exc), exc.status, number) from None
        items = body.get(items_key) if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise PageError(f"page {number}: no `{items_key}` list in the response", None, number)
        if not items:
            return
        yield Page(number, items)
        token = body.get("next_page_token")
        if not token or token in seen:
            return
        seen.add(token)


def slug_path(slug: str) -> str:
    """A project slug in a URL path: its `/` kept, anything else unsafe escaped."""
    return quote(slug, safe="/")


def name_path(name: str) -> str:
    """A workflow name as one path segment (names may hold spaces, slashes, parentheses)."""
    return quote(name, safe="")


class CircleCIJsonClient:
    """GETs JSON from CircleCI API v2 with the `Circle-Token` header; retries through `send`."""

    def __init__(
        self,
        token: str,
        api_url: str = DEFAULT_API_URL,
        *,
        timeout_seconds: float = 30.0,
        policy: RetryPolicy | None = None,  # default: RetryPolicy() when the client is made
    ):
        if not token:
            raise ValueError("a CircleCI API token is required")
        self._token = token
        policy = policy or RetryPolicy()
        self._policy = policy
        self._deadline = Deadline(policy.deadline_seconds)  # one client, one pull
        self._http = api_client(api_url, {"Circle-Token": token}, timeout_seconds)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> CircleCIJsonClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def get(self, path: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        """One GET; `ApiError` (with `.status`) when it fails for good or answers no JSON object."""
        response = send(self._http, "GET", path, policy=self._policy, deadline=self._deadline,
                        secrets=(self._token,), params=params)
        try:
            body = response.json()
        except ValueError:
            kind = response.headers.get("content-type", "no content type").split(";")[0]
            raise ApiError(f"GET {path}: HTTP {response.status_code} but the response is not JSON ({kind}: "
                           f"{response.text.strip()[:80]!r})", response.status_code) from None
        if not isinstance(body, dict):
            raise ApiError(f"GET {path}: expected a JSON object, got {type(body).__name__}", response.status_code)
        return body

    def pages(self, path: str, params: dict[str, str] | None = None) -> Iterator[Page]:
        """The pages of a list endpoint; `PageError` names the page that failed."""

        def fetch(token: str | None) -> dict[str, Any]:
            return self.get(path, {**(params or {}), **({"page-token": token} if token else {})})

        return iter_pages(fetch, max_pages=self._policy.max_pages, where=f"GET {path}")


@dataclass(frozen=True)
class PullFailure:
    """A request of a pull that failed for good; a 404 (a deleted project or pipeline) is a skip."""

    project: str  # project slug
    request: str  # e.g. "GET insights/gh/acme/api/workflows/build" (never a token or query)
    page: int | None  # the page that failed, for listings
    status: int | None  # HTTP status; None for transport errors and unreadable bodies
    message: str

    @property
    def is_skip(self) -> bool:
        return self.status == 404


@dataclass(frozen=True)
class Listing:
    """The items of one listing, read whole (every page)."""

    items: list[dict[str, Any]]
    pages: int

    def source_name(self, request: str) -> str:
        """Where its rows came from, for `_source_file`: the request and the pages read."""
        return f"{request} page 1" if self.pages <= 1 else f"{request} pages 1-{self.pages}"


def read_listing(pages: Iterator[Page]) -> Listing:
    """Every item of a listing. Raises `PageError` when a page fails: a listing lands whole or not
    at all, since landing its first pages would move the high-water mark past the pages missed."""
    items: list[dict[str, Any]] = []
    count = 0
    for page in pages:
        items.extend(page.items)
        count = page.number
    return Listing(items, count)


def failure(project: str, request: str, exc: Exception) -> PullFailure:
    """A `PullFailure` from what a client raised (the message is already secret-free)."""
    status = getattr(exc, "status", None)
    page = getattr(exc, "page", None)
    return PullFailure(project, request, page, status, str(exc))


def source_key(*parts: str) -> str:
    """A quarantine key (a file name) for one listing: readable, filesystem-safe and unique."""
    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", "-".join(parts)).strip("_")[:120]
    digest = hashlib.sha1("\x1f".join(parts).encode()).hexdigest()[:10]
    return f"{readable}-{digest}"


@dataclass
class PullResult:
    """What one pull gathered: items per raw table (with where they came from) and failures."""

    items: dict[str, list[Items]] = field(default_factory=dict)
    failures: list[PullFailure] = field(default_factory=list)

    def add(self, table: str, items: Iterable[Mapping[str, Any]], context: Mapping[str, Any], name: str,
            key: str) -> None:
        """Items that share one context (that of the request that listed them)."""
        self.add_pairs(table, ((item, context) for item in items), name, key)

    def add_pairs(self, table: str, pairs: Iterable[Pair], name: str, key: str) -> None:
        pairs = tuple(pairs)
        # An empty listing has nothing to land (and `merge_into_lake` fails on staged files
        # that are all empty).
        if pairs:
            self.items.setdefault(table, []).append(Items(table, pairs, name, key))

    def fail(self, project: str, request: str, exc: Exception) -> None:
        self.failures.append(failure(project, request, exc))

    @property
    def errors(self) -> list[PullFailure]:
        return [f for f in self.failures if not f.is_skip]

    @property
    def skipped(self) -> list[PullFailure]:
        return [f for f in self.failures if f.is_skip]
