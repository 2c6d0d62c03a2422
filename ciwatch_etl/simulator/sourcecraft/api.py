"""The SourceCraft API origin: repositories and their CI runs by id, Bearer auth, errors, faults.

    GET /repos/id:{repo_id}                                     GetRepositoryByID
    GET /repos/id:{repo_id}/cicd/runs?page_size=&page_token=   ListRunsByID, newest first
    GET /repos/id:{repo_id}/cicd/runs/{run_slug}                GetRun

Every error is the spec's `ApiErrorResponse` `{error_code, message, request_id, details}` with a
4xx/5xx status, except what a proxy in front of the API would answer itself (plain-text 429 when
asked for, HTML 502/503/504). `page_size` is a uint64 in a string: 0 or absent means the
default, more than the maximum is served as the maximum ("the service may return fewer").
"""

from __future__ import annotations

import hmac
import re
import time
import uuid
from http import HTTPStatus
from typing import Any

from ciwatch_etl.simulator.faults import RateLimit, ServerError, Slow
from ciwatch_etl.simulator.http_base import Request, Response
from ciwatch_etl.simulator.rate_limit import SlidingWindowLimit
from ciwatch_etl.simulator.sourcecraft.faults import (
    EndlessEmptyPage,
    InsertRuns,
    SourceCraftFaults,
)
from ciwatch_etl.simulator.sourcecraft.page_tokens import (
    BadPageToken,
    PageToken,
    PageTokens,
)
from ciwatch_etl.simulator.sourcecraft.render import render_run
from ciwatch_etl.simulator.sourcecraft.repository import render_repository
from ciwatch_etl.simulator.sourcecraft.world import SourceCraftWorld

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
LIST_PERMISSION = "src.repositories.listCI"

_RUNS = re.compile(r"/repos/id:(?P<repo_id>[^/]+)/cicd/runs(?:/(?P<run_slug>[^/]+))?/?")
_REPO = re.compile(r"/repos/id:(?P<repo_id>[^/]+)/?")


def api_error(status: int, code: str, message: str, details: dict[str, str] | None = None,
              headers: dict[str, str] | None = None) -> Response:
    body: dict[str, Any] = {"error_code": code, "message": message, "request_id": uuid.uuid4().hex}
    if details:
        body["details"] = details
    return Response.json(status, body, headers)


class SourceCraftApi:
    def __init__(self, *, token: str, world: SourceCraftWorld, faults: SourceCraftFaults, tokens: PageTokens,
                 limit: SlidingWindowLimit, artifact_origin: str) -> None:
        self._token = token
        self._world = world
        self._faults = faults
        self._tokens = tokens
        self._limit = limit
        self._artifact_origin = artifact_origin

    def __call__(self, request: Request) -> Response:
        slow = self._faults.take(Slow)
        if slow is not None:
            time.sleep(slow.seconds)
        limited = self._faults.take(RateLimit)
        if limited is not None:
            return _rate_limited(limited.retry_after, plain_text=limited.plain_text)
        failing = self._faults.take(ServerError)
        if failing is not None:
            return _server_error(failing.status)

        match = _RUNS.fullmatch(request.path) or _REPO.fullmatch(request.path)
        if match is None:
            return api_error(404, "NotFound", f"no such endpoint: {request.path}")
        if request.method != "GET":
            return api_error(405, "MethodNotAllowed", f"{request.method} is not supported here")
        if not self._authenticated(request):
            return api_error(401, "Unauthenticated", "authentication required: send a valid token as "
                                                     "'Authorization: Bearer <token>'")
        wait = self._limit.retry_after(self._token)
        if wait is not None:
            return _rate_limited(wait)
        self._limit.record(self._token)

        repo_id = match["repo_id"]
        repo = self._world.repo(repo_id)
        if repo is None:
            return api_error(404, "NotFound", f"repository id:{repo_id} not found")
        if match.re is _REPO:  # another org's repository may be read; its CI runs may not be listed
            return Response.json(200, render_repository(repo, self._world.seed,
                                                        self._world.last_run_created_at(repo_id)))
        if repo is self._world.forbidden_repo:
            return api_error(403, "PermissionDenied", f"not allowed to list CI runs of repository id:{repo_id}",
                             {"permission": LIST_PERMISSION})
        if match["run_slug"] is not None:
            return self._get_run(repo_id, match["run_slug"])
        return self._list_runs(repo_id, request.params)

    def _authenticated(self, request: Request) -> bool:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), self._token.encode())

    def _get_run(self, repo_id: str, slug: str) -> Response:
        run = self._world.run(repo_id, slug)
        if run is None:
            return api_error(404, "NotFound", f"run {slug} not found in repository id:{repo_id}")
        return Response.json(200, render_run(run, self._world.now, self._artifact_origin))

    def _list_runs(self, repo_id: str, params: dict[str, str]) -> Response:
        raw_size = params.get("page_size", "")
        if raw_size and not raw_size.isdigit():
            return api_error(400, "ValidationError", f"page_size must be an unsigned integer, got {raw_size!r}",
                             {"field": "page_size"})
        requested = int(raw_size or 0)
        size = min(requested or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        offset = 0
        if params.get("page_token"):
            inserting = self._faults.take(InsertRuns)
            if inserting is not None:
                self._world.insert_runs(repo_id, inserting.count)
            try:
                offset = self._tokens.read(params["page_token"], repo_id, requested).offset
            except BadPageToken as invalid:
                return api_error(400, "ValidationError", str(invalid), {"field": "page_token"})
        if self._faults.take(EndlessEmptyPage) is not None:
            return Response.json(200, {"next_page_token": self._tokens.issue(PageToken(repo_id, requested, offset))})
        now = self._world.now
        runs = self._world.runs(repo_id)
        page = runs[offset:offset + size]
        body: dict[str, Any] = {}
        if page:
            body["runs"] = [render_run(r, now, self._artifact_origin) for r in page]
        if offset + size < len(runs):
            body["next_page_token"] = self._tokens.issue(PageToken(repo_id, requested, offset + size))
        return Response.json(200, body)


def _rate_limited(retry_after: int, *, plain_text: bool = False) -> Response:
    headers = {"Retry-After": str(retry_after)}
    if plain_text:
        return Response.text(429, "Too Many Requests", headers=headers)
    return api_error(429, "ResourceExhausted", "too many requests, retry later", headers=headers)


def _server_error(status: int) -> Response:
    if status == 500:
        return api_error(500, "Internal", "internal error")
    # Gateway errors come from the proxy in front of the API, as HTML rather than the API's JSON.
    reason = f"{status} {HTTPStatus(status).phrase}"
    return Response.text(status, f"<html><head><title>{reason}</title></head><body><h1>{reason}</h1></body></html>",
                         content_type="text/html")
