"""The gocdnext REST origin (`/api/v1`): runs list, run detail, projects, project detail; auth
and faults.

Mirrors the Go handlers (see shared refs/gocdnext/API_SHAPES.md): query parsing as in
`dashboard.Handler.RunsGlobal`, `runs.Handler.Detail` and `projects.Handler.Detail` (`runs`:
default 25, at most 100, not positive: 400), errors as `http.Error` writes them (plain text with
a trailing newline), unknown paths as chi's `404 page not found`.
"""

from __future__ import annotations

import hmac
import re
import time
import uuid
from collections.abc import Callable
from urllib.parse import unquote

from ciwatch_etl.simulator.faults import RateLimit, ServerError, Slow
from ciwatch_etl.simulator.gocdnext.faults import GocdnextFaults, InsertRuns
from ciwatch_etl.simulator.gocdnext.view import (
    global_run_summary,
    project_detail,
    project_summary,
    run_detail,
    run_status,
)
from ciwatch_etl.simulator.gocdnext.world import World
from ciwatch_etl.simulator.http_base import Request, Response

API_PREFIX = "/api/v1"
DEFAULT_LIMIT, MAX_LIMIT = 20, 200
DEFAULT_LOG_LINES, MAX_LOG_LINES = 200, 2000
DEFAULT_PROJECT_RUNS, MAX_PROJECT_RUNS = 25, 100
_INTEGER = re.compile(r"[+-]?\d+")  # what Go's strconv.Atoi accepts
_RUN_PATH = re.compile(r"/runs/([^/]+)")
_PROJECT_PATH = re.compile(r"/projects/([^/]+)")


def plain(status: int, text: str, headers: dict[str, str] | None = None) -> Response:
    """`http.Error`: the text plus a newline, as text/plain."""
    return Response.text(status, text + "\n", headers={"X-Content-Type-Options": "nosniff", **(headers or {})})


class _BadQuery(Exception):
    pass


def _int_param(request: Request, name: str, default: int, minimum: int) -> int:
    raw = request.params.get(name, "")
    if raw == "":
        return default
    if not _INTEGER.fullmatch(raw) or int(raw) < minimum:
        raise _BadQuery(f"invalid '{name}' query")
    return int(raw)


class GocdnextApi:
    def __init__(self, world: World, token: str, faults: GocdnextFaults) -> None:
        self._world = world
        self._token = token
        self._faults = faults

    def __call__(self, request: Request) -> Response:
        slow = self._faults.take(Slow)
        if slow is not None:
            time.sleep(slow.seconds)
        limited = self._faults.take(RateLimit)
        if limited is not None:
            # From the reverse proxy in front of the server: plain text as well.
            return plain(429, "rate limit exceeded", {"Retry-After": str(limited.retry_after)})
        failing = self._faults.take(ServerError)
        if failing is not None:
            return plain(failing.status, "internal error" if failing.status == 500 else "upstream unavailable")

        handler = self._route(request.path)
        if handler is None:
            return plain(404, "404 page not found")
        if not self._authorized(request):
            return plain(401, "unauthorized")
        if request.method != "GET":
            return Response(405, b"", {"Allow": "GET"})
        try:
            with self._world.lock:
                return handler(request)
        except _BadQuery as bad:
            return plain(400, str(bad))

    def _route(self, path: str) -> Callable[[Request], Response] | None:
        if not path.startswith(API_PREFIX + "/"):
            return None
        rest = path[len(API_PREFIX):]
        if rest == "/runs":
            return self._runs
        if rest == "/projects":
            return self._projects
        match = _RUN_PATH.fullmatch(rest)
        if match:
            return lambda request: self._run(request, match.group(1))
        match = _PROJECT_PATH.fullmatch(rest)
        if match:
            return lambda request: self._project(request, match.group(1))
        return None

    def _authorized(self, request: Request) -> bool:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), self._token.encode())

    def _runs(self, request: Request) -> Response:
        limit = min(_int_param(request, "limit", DEFAULT_LIMIT, 1), MAX_LIMIT)
        offset = _int_param(request, "offset", 0, 0)
        if offset > 0:
            inserting = self._faults.take(InsertRuns)
            if inserting is not None:
                self._world.insert_runs(inserting.count)
        params = request.params
        world = self._world
        runs = world.visible_runs()
        if params.get("project"):
            runs = [r for r in runs if r.pipeline.project.slug == params["project"]]
        if params.get("cause"):
            runs = [r for r in runs if r.cause == params["cause"]]
        if params.get("status"):
            runs = [r for r in runs if run_status(r, world.now) == params["status"]]
        page = runs[offset:offset + limit]
        return Response.json(200, {
            "runs": [global_run_summary(run, world.now) for run in page],
            "total": len(runs),
            "limit": limit,
            "offset": offset,
        })

    def _run(self, request: Request, raw_id: str) -> Response:
        try:
            run_id = str(uuid.UUID(raw_id))
        except ValueError:
            return plain(400, "invalid id")
        logs = min(_int_param(request, "logs", DEFAULT_LOG_LINES, 0), MAX_LOG_LINES)
        head = min(_int_param(request, "head", 0, 0), MAX_LOG_LINES)
        run = self._world.run(run_id)
        if run is None:
            return plain(404, "run not found")
        return Response.json(200, run_detail(run, self._world.now, logs=logs, head=head))

    def _projects(self, request: Request) -> Response:
        world = self._world
        runs = world.visible_runs()
        return Response.json(200, {
            "projects": [
                project_summary(project, world.pipeline_count(project),
                                [r for r in runs if r.pipeline.project.id == project.id], world.now)
                for project in world.projects
            ]
        })

    def _project(self, request: Request, slug: str) -> Response:
        limit = min(_int_param(request, "runs", DEFAULT_PROJECT_RUNS, 1), MAX_PROJECT_RUNS)
        world = self._world
        project = world.project(unquote(slug))
        if project is None:
            return plain(404, "project not found")
        runs = [r for r in world.visible_runs() if r.pipeline.project.id == project.id]
        return Response.json(200, project_detail(project, world.pipeline_definitions(project), runs, limit, world.now))
