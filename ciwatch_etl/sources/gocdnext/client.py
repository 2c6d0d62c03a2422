"""gocdnext REST client (`/api/v1`): the global runs list, run details and projects.

What the API gives (see shared refs/gocdnext/API_SHAPES.md): runs newest first by `created_at`,
paged by `limit`/`offset` (at most 200) in an envelope `{runs, total, limit, offset}`; a run's
stages and jobs only in its detail (`?logs=0` leaves the log tails out); errors as plain text;
times RFC 3339 with up to nine fraction digits; no durations (computed here).

Offset paging over a newest-first list shifts when runs are created while we page: rows move
down, so a later page starts with rows we already have (dropped by id), and the new runs sit at
the head, before the first page (read again at the end). Rows only move up when runs are
deleted; then `total` shrinks and the page is read again from a smaller offset.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

import httpx

from ciwatch_etl.sources.gocdnext.records import KnownRun, RunListing, RunPull, parse_time
from ciwatch_etl.sources.http import ApiError, Deadline, DeadlineExceeded, RetryPolicy, api_client, send

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
MAX_PAGE_SIZE = 200  # the server clamps larger limits to this
MAX_HEAD_REREADS = 10  # new runs keep arriving: give up re-reading the head after this many passes


def base_url(url: str) -> str:
    """The server's base URL: a GOCDNEXT_URL given with `/api/v1` or a trailing slash is accepted."""
    url = url.strip().rstrip("/")
    return url.removesuffix(API_PREFIX).rstrip("/")


class GocdnextClient:
    """Reads one gocdnext server with an API token (`Authorization: Bearer gcn_...`)."""

    def __init__(
        self,
        url: str,
        token: str,
        *,
        page_size: int = MAX_PAGE_SIZE,
        timeout_seconds: float = 30.0,
        policy: RetryPolicy | None = None,  # default: RetryPolicy() when the client is made
        transport: httpx.BaseTransport | None = None,  # tests only: a fake server
    ) -> None:
        if not token:
            raise ValueError("a gocdnext API token is required")
        if not url:
            raise ValueError("the gocdnext server URL is required")
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be 1..{MAX_PAGE_SIZE}, got {page_size}")
        self._token = token
        policy = policy or RetryPolicy()
        self._policy = policy
        self._deadline = Deadline(policy.deadline_seconds)  # one client, one pull
        self.page_size = page_size
        self.server_url = base_url(url)
        self._http = api_client(self.server_url + API_PREFIX, {"Authorization": f"Bearer {token}"},
                                timeout_seconds, transport)

    @property
    def server_host(self) -> str:
        return httpx.URL(self.server_url).host

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> GocdnextClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- endpoints -----------------------------------------------------------------------------

    def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET `path` (below `/api/v1/`) as JSON; `ApiError` naming the request, never the token."""
        query = "" if not params else " [" + " ".join(f"{k}={v}" for k, v in params.items()) + "]"
        try:
            response = send(self._http, "GET", path, policy=self._policy, deadline=self._deadline,
                            secrets=(self._token,), params=dict(params or {}))
        except ApiError as exc:
            raise (DeadlineExceeded if isinstance(exc, DeadlineExceeded) else ApiError)(
                f"{exc}{query}", exc.status) from None
        try:
            return response.json()
        except ValueError:
            raise ApiError(
                f"GET {self.server_url}{API_PREFIX}/{path}{query}: HTTP {response.status_code} "
                f"but not JSON: {response.text.strip()[:120]!r}", response.status_code,
            ) from None

    def runs_page(self, limit: int, offset: int, listing: RunListing | None = None, **filters: str) -> dict[str, Any]:
        """One page of `GET /api/v1/runs`; filters: status, cause, project (slug).

        With `listing`, the page is counted there, and a listing past `RetryPolicy.max_pages`
        pages (a `total` that is never reached) fails instead.
        """
        if listing is not None:
            if listing.pages >= self._policy.max_pages:
                raise ApiError(f"GET {self.server_url}{API_PREFIX}/runs: more than {self._policy.max_pages} pages "
                               f"(offset {offset}); stopped (CIWATCH_MAX_PAGES)")
            listing.pages += 1
        params = {"limit": limit, "offset": offset, **{k: v for k, v in filters.items() if v}}
        page = self.get_json("runs", params)
        if not isinstance(page, dict) or not isinstance(page.get("runs"), list) or "total" not in page:
            raise ApiError(f"GET {self.server_url}{API_PREFIX}/runs: unexpected body (no runs/total envelope)")
        return page

    def run_detail(self, run_id: str) -> dict[str, Any] | None:
        """`GET /api/v1/runs/{id}?logs=0`; None when the server no longer has the run."""
        try:
            detail = self.get_json(f"runs/{uuid.UUID(run_id)}", {"logs": 0})
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise
        if not isinstance(detail, dict) or detail.get("id") != str(uuid.UUID(run_id)):
            raise ApiError(f"GET {self.server_url}{API_PREFIX}/runs/{run_id}: unexpected body (not this run)")
        return detail

    def projects(self) -> list[dict[str, Any]]:
        body = self.get_json("projects")
        if not isinstance(body, dict) or not isinstance(body.get("projects"), list):
            raise ApiError(f"GET {self.server_url}{API_PREFIX}/projects: unexpected body (no projects list)")
        return body["projects"]

    # -- paging --------------------------------------------------------------------------------

    def list_runs(
        self, since: datetime | None, initial: timedelta = timedelta(days=30), **filters: str
    ) -> RunListing:
        """Every run created at or after `since` (naive UTC), each once, newest first.

        Without `since` (a first pull) the window is `initial` back from the newest run listed,
        so the server's clock decides, not ours. `filters` as for `runs_page`.
        """
        listing = RunListing(cutoff=since)
        seen: set[str] = set()
        offset, first_total, last_total = 0, None, None
        while True:
            page = self.runs_page(self.page_size, offset, listing, **filters)
            total, runs = int(page["total"]), page["runs"]
            if last_total is not None and total != last_total:
                listing.shifts_seen += 1
                if total < last_total:
                    # Runs deleted above us: rows moved up. Read again from further up.
                    offset = max(0, offset - (last_total - total))
                    last_total = total
                    continue
            first_total = total if first_total is None else first_total
            last_total = total
            done = self._take(runs, listing, seen, initial)
            offset += len(runs)
            if done or not runs or offset >= total:
                break
        if last_total is not None and first_total is not None and last_total > first_total:
            self._reread_head(listing, seen, initial, filters)
        return listing

    def _take(self, runs: list[dict[str, Any]], listing: RunListing, seen: set[str], initial: timedelta) -> bool:
        """Add the unseen runs not older than the cutoff; True once the cutoff is passed."""
        passed = False
        for run in runs:
            if run["id"] in seen:
                listing.duplicates_dropped += 1
                continue
            created = _created_at(run)
            if listing.cutoff is None and created is not None:
                listing.cutoff = created - initial
            if created is not None and listing.cutoff is not None and created < listing.cutoff:
                passed = True
                continue
            seen.add(run["id"])
            listing.runs.append(run)
        return passed

    def _reread_head(
        self, listing: RunListing, seen: set[str], initial: timedelta, filters: Mapping[str, str]
    ) -> None:
        """Runs created while we paged sit before our first page: read from the top down to known rows."""
        for _ in range(MAX_HEAD_REREADS):
            listing.head_rereads += 1
            offset, start_total, total, new = 0, None, 0, []
            while True:
                page = self.runs_page(self.page_size, offset, listing, **filters)
                total, runs = int(page["total"]), page["runs"]
                start_total = total if start_total is None else start_total
                overlap = any(run["id"] in seen for run in runs)
                fresh = RunListing(cutoff=listing.cutoff)
                self._take([r for r in runs if r["id"] not in seen], fresh, seen, initial)
                new += fresh.runs
                offset += len(runs)
                if overlap or not runs or offset >= total:
                    break
            listing.runs[:0] = new
            if total <= start_total:
                return
        log.warning("gocdnext: runs kept arriving while re-reading the newest page; the next pull picks them up")

    # -- a pull --------------------------------------------------------------------------------

    def pull(
        self,
        since: datetime | None,
        known: Mapping[str, KnownRun],
        open_run_ids: Iterable[str] = (),
        initial: timedelta = timedelta(days=30),
    ) -> RunPull:
        """Projects, the runs listed since `since`, and the detail of each new, changed or unfinished
        run, plus the detail of older runs the lake holds as unfinished (`open_run_ids`)."""
        projects = self.projects()
        listing = self.list_runs(since, initial)
        wanted: list[str] = []
        unchanged = 0
        for summary in listing.runs:
            before = known.get(summary["id"])
            if before is not None and before.finished and before == _known(summary):
                unchanged += 1
            else:
                wanted.append(summary["id"])
        listed = {run["id"] for run in listing.runs}
        wanted += [run_id for run_id in open_run_ids if run_id not in listed]
        details, vanished = [], []
        for run_id in wanted:
            detail = self.run_detail(run_id)
            if detail is None:
                vanished.append(run_id)
            else:
                details.append(detail)
        if vanished:
            log.info("gocdnext: %d run(s) no longer on the server: %s", len(vanished), ", ".join(vanished[:5]))
        return RunPull(projects, listing, details, unchanged, vanished)


def _created_at(summary: Mapping[str, Any]) -> datetime | None:
    """A summary's created_at; None if unreadable (the run is kept: its detail row gets quarantined)."""
    try:
        return parse_time(summary.get("created_at"))
    except (TypeError, ValueError):
        return None


def _known(summary: Mapping[str, Any]) -> KnownRun | None:
    try:
        return KnownRun.of(summary)
    except (KeyError, TypeError, ValueError):
        return None  # unreadable: compare as changed, fetch the detail
