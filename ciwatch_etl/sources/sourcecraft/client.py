"""SourceCraft API client: repositories and their CI runs, by repository id.

`GET /repos/id:{repo_id}` gives a repository's names and default branch (the spec's `Repository`).

`GET /repos/id:{repo_id}/cicd/runs` pages newest first with `page_size`/`page_token` (the token
is bound to the other parameters; an absent or empty `next_page_token` ends the list) and has no
date filter, so an incremental pull pages back until runs are older than `since`. Runs seen
unfinished earlier and older than that are read again one by one (`GET .../cicd/runs/{slug}`).

The token pages are offsets: runs created while we page push older runs onto the next page, so
a page may repeat runs already read; they are kept once (the later copy). Parsing the JSON into
records is `records`'s.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx

from ciwatch_etl.sources.http import ApiError, Deadline, RetryPolicy, api_client, one_line, scrub, send
from ciwatch_etl.sources.sourcecraft.records import Run, parse_run

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.sourcecraft.tech"
DEFAULT_PAGE_SIZE = 50
UNFINISHED_STATUSES = frozenset({"created", "prepared", "processing"})


class SourceCraftError(RuntimeError):
    """A call that failed for good; the message names the repo, the page (or run) and the status."""

    def __init__(self, message: str, *, repo_id: str, status: int | None = None, error_code: str | None = None):
        super().__init__(message)
        self.repo_id = repo_id
        self.status = status
        self.error_code = error_code


@dataclass
class RepoPull:
    """The runs of one repository read by one incremental pull."""

    repo_id: str
    runs: list[Run] = field(default_factory=list)  # newest first; the re-read ones last
    pages: int = 0
    runs_listed: int = 0  # as served, counting runs a shifted page repeated
    runs_repeated: int = 0
    runs_reread: list[str] = field(default_factory=list)  # slugs read again with GetRun
    runs_gone: list[str] = field(default_factory=list)  # re-read slugs the API no longer has


class SourceCraftClient:
    """Reads CI runs with one personal access token (sent only as `Authorization: Bearer`)."""

    def __init__(
        self,
        token: str,
        api_url: str = DEFAULT_API_URL,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        timeout_seconds: float = 30.0,
        policy: RetryPolicy | None = None,  # default: RetryPolicy() when the client is made
    ):
        if not token:
            raise ValueError("a SourceCraft token is required")
        if page_size < 1:
            raise ValueError(f"page_size must be at least 1, got {page_size}")
        self._token = token
        self._page_size = page_size
        policy = policy or RetryPolicy()
        self._policy = policy
        self._deadline = Deadline(policy.deadline_seconds)  # one client, one pull
        self._http = api_client(api_url, {"Authorization": f"Bearer {token}"}, timeout_seconds)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SourceCraftClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def list_pages(self, repo_id: str) -> Iterator[tuple[int, list[Any]]]:
        """(page number, runs as served) newest first, until an empty page or no next token."""
        path = f"{_repo_path(repo_id)}/cicd/runs"
        token: str | None = None
        tokens_seen: set[str] = set()
        page = 0
        while True:
            page += 1
            if page > self._policy.max_pages:
                raise SourceCraftError(f"SourceCraft repo {repo_id}: GET /{path}: still a next_page_token after "
                                       f"{self._policy.max_pages} pages; stopped (CIWATCH_MAX_PAGES)", repo_id=repo_id)
            params = {"page_size": str(self._page_size)}
            if token:
                params["page_token"] = token
            body = self._get(path, params, repo_id, f"page {page}")
            runs = body.get("runs") or []
            if not isinstance(runs, list):
                raise SourceCraftError(f"SourceCraft repo {repo_id}, page {page}: `runs` is not a list",
                                       repo_id=repo_id)
            yield page, runs
            token = body.get("next_page_token")
            if not runs or not token:
                return
            if token in tokens_seen:
                raise SourceCraftError(f"SourceCraft repo {repo_id}, page {page}: the API gave a page token "
                                       "it had given before; paging would never end", repo_id=repo_id)
            tokens_seen.add(token)

    def get_repository(self, repo_id: str) -> dict[str, Any] | None:
        """The repository as the API gives it; None if the API does not know it (404)."""
        try:
            return self._get(_repo_path(repo_id), {}, repo_id, "repository")
        except SourceCraftError as error:
            if error.status == 404:
                return None
            raise

    def get_run(self, repo_id: str, slug: str) -> Run | None:
        """One run as it is now; None if the API no longer has it (404)."""
        path = f"{_repo_path(repo_id)}/cicd/runs/{quote(slug, safe='')}"
        try:
            body = self._get(path, {}, repo_id, f"run {slug}")
        except SourceCraftError as error:
            if error.status == 404:
                return None
            raise
        return parse_run(body, repo_id, f"GET /{path}", None, _utc_now())

    def pull(self, repo_id: str, since: datetime | None, reread: Collection[str] = ()) -> RepoPull:
        """Runs created at or after `since` (naive UTC; None: every run), plus the `reread` slugs.

        Pages back until a page holds a run created before `since`; a `reread` run that paging
        did not reach is read on its own.
        """
        pull = RepoPull(repo_id)
        by_slug: dict[str, Run] = {}
        slugless: list[Run] = []
        for page, raw_runs in self.list_pages(repo_id):
            pull.pages = page
            extracted_at = _utc_now()
            source = f"GET /{_repo_path(repo_id)}/cicd/runs page {page}"
            created = []
            for raw in raw_runs:
                run = parse_run(raw, repo_id, source, page, extracted_at)
                pull.runs_listed += 1
                if run.slug is None:
                    slugless.append(run)
                    continue
                if run.slug in by_slug:
                    pull.runs_repeated += 1
                    del by_slug[run.slug]  # keep the later copy, in its newer place
                by_slug[run.slug] = run
                if run.dates.created_at is not None:
                    created.append(run.dates.created_at)
            if since is not None and created and min(created) < since:
                break
        wanted = set(reread)
        pull.runs = [
            run for run in [*by_slug.values(), *slugless]
            if since is None or run.slug in wanted or run.dates.created_at is None or run.dates.created_at >= since
        ]
        for slug in sorted(wanted - by_slug.keys(), key=_slug_order):
            run = self.get_run(repo_id, slug)
            pull.runs_reread.append(slug)
            if run is None:
                pull.runs_gone.append(slug)
            else:
                pull.runs.append(run)
        log.info("SourceCraft repo %s: %d runs listed on %d pages (%d repeated by shifted pages), %d read again "
                 "(%d gone)", repo_id, pull.runs_listed, pull.pages, pull.runs_repeated, len(pull.runs_reread),
                 len(pull.runs_gone))
        return pull

    def _get(self, path: str, params: dict[str, str], repo_id: str, what: str) -> dict[str, Any]:
        where = f"SourceCraft repo {repo_id}, {what}"
        try:
            response = send(self._http, "GET", path, policy=self._policy, deadline=self._deadline,
                            secrets=(self._token,), params=params, ok=_success_or_final)
        except ApiError as error:
            raise SourceCraftError(f"{where}: {error}", repo_id=repo_id, status=error.status) from None
        if not response.is_success:
            code, message = describe_error(response, (self._token,))
            raise SourceCraftError(f"{where}: GET /{path}: HTTP {response.status_code} {message}", repo_id=repo_id,
                                   status=response.status_code, error_code=code)
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise SourceCraftError(f"{where}: GET /{path}: HTTP {response.status_code} but the body is not a JSON "
                                   "object", repo_id=repo_id, status=response.status_code)
        return body


def describe_error(response: httpx.Response, secrets: Collection[str]) -> tuple[str | None, str]:
    """(error_code, readable text) of an `ApiErrorResponse`, or the start of a non-JSON body."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or ("error_code" not in body and "message" not in body):
        return None, scrub(one_line(response.text), secrets)
    code = body.get("error_code") if isinstance(body.get("error_code"), str) else None
    text = one_line(f"{code or 'error'}: {body.get('message') or 'no message'}")
    details = body.get("details")
    extra = [f"{k}={v}" for k, v in details.items()] if isinstance(details, dict) else []
    if body.get("request_id"):
        extra.append(f"request_id={body['request_id']}")
    if extra:
        text += f" ({'; '.join(extra)})"
    return code, scrub(text, secrets)


def _success_or_final(response: httpx.Response) -> bool:
    """Hand back client errors (except 429) unretried, so their envelope can be read here."""
    return response.is_success or (400 <= response.status_code < 500 and response.status_code != 429)



def _repo_path(repo_id: str) -> str:
    return f"repos/id:{quote(repo_id, safe='')}"


def _slug_order(slug: str) -> tuple[int, str]:
    return (int(slug), slug) if slug.isdigit() else (0, slug)


def _utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
