"""Hostile API servers: every client fails in one line naming the request, within its deadline.

A tiny HTTP server on loopback (`HostileServer`) answers by the first segment of the path:

    html      200 with an HTML login page          trickle   200, then a byte every 0.2 s
    badjson   200 with JSON cut short               slow429   429 with Retry-After: 3600
    array     200 with a JSON list, not an object   401/403   refused (the 401 echoes the token)
    endless   a new next_page_token on every page   redirect  302 to another host (127.0.0.2)
    hang      reads the request, never answers      export    a usage export whose file trickles
    500       500 with an HTML page of many lines

The clients get a deadline of DEADLINE seconds and a bound of MAX_PAGES pages
(`RetryPolicy`, from CIWATCH_PULL_DEADLINE_SECONDS and CIWATCH_MAX_PAGES in production). Each
case asserts the error's class, that it is one line naming the request (method and URL or
path, or the page), that the token is not in it, and how long it took: a hang or a trickle
ends within the deadline plus a second, an endless listing after MAX_PAGES pages.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from ciwatch_etl.cli import cli
from ciwatch_etl.simulator.circleci import Simulator
from ciwatch_etl.sources.circleci.usage_export import CircleCIUsageClient, ExportWindow
from ciwatch_etl.sources.gocdnext.client import GocdnextClient
from ciwatch_etl.sources.http import ApiError, DeadlineExceeded, RetryPolicy
from ciwatch_etl.sources.circleci.json_client import CircleCIJsonClient, PageError, read_listing
from ciwatch_etl.sources.sourcecraft.client import SourceCraftClient, SourceCraftError
from usage_landing import lake_rows

TOKEN = "hostile-secret-token-0123456789"
DEADLINE = 1.5
MAX_PAGES = 5
POLICY = RetryPolicy(attempts=3, backoff_seconds=0.05, backoff_max_seconds=0.1, deadline_seconds=DEADLINE,
                     max_pages=MAX_PAGES)


class HostileServer:
    """One loopback HTTP server; `requests` lists (path, headers) of what it was asked."""

    def __init__(self, host: str = "127.0.0.1", redirect_to: str = ""):
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.stop = threading.Event()
        self.redirect_to = redirect_to
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                outer.requests.append((self.path, dict(self.headers)))
                outer.answer(self)

            do_POST = do_GET

        self.httpd = ThreadingHTTPServer((host, 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://{host}:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> HostileServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        if length:
            handler.rfile.read(length)
        kind, _, rest = handler.path.lstrip("/").partition("/")
        rest = rest.split("?")[0]
        if kind == "hang":
            self.stop.wait(30)
            return
        if kind == "trickle" or rest.endswith("file.csv.gz"):
            handler.send_response(200)
            handler.send_header("Content-Length", "100000")
            handler.end_headers()
            while not self.stop.wait(0.2):
                try:
                    handler.wfile.write(b"x")
                    handler.wfile.flush()
                except OSError:
                    return
            return
        if kind == "redirect":
            return self._send(handler, 302, b"", "text/plain", {"Location": f"{self.redirect_to}/steal"})
        if kind in ("401", "403"):
            echo = handler.headers.get("Circle-Token") or handler.headers.get("Authorization") or ""
            body = json.dumps({"message": f"not allowed with {echo}"}) if kind == "401" else "Forbidden"
            return self._send(handler, int(kind), body.encode(), "application/json" if kind == "401" else "text/plain")
        if kind == "slow429":
            return self._send(handler, 429, b"slow down", "text/plain", {"Retry-After": "3600"})
        if kind == "500":
            page = b"<html>\n<head><title>502 Bad Gateway</title></head>\n<body>\n<h1>Bad Gateway</h1>\n</body></html>\n"
            return self._send(handler, 500, page, "text/html")
        if kind == "html":
            return self._send(handler, 200, b"<!doctype html><html><body>Sign in</body></html>", "text/html")
        if kind == "badjson":
            return self._send(handler, 200, b'{"items": [{"id": 1}', "application/json")
        if kind == "array":
            return self._send(handler, 200, b"[1, 2, 3]", "application/json")
        if kind == "endless":
            return self._json(handler, self._endless(rest))
        if kind == "export":
            return self._json(handler, self._export(rest))
        self._send(handler, 404, b"no such path", "text/plain")

    def _endless(self, path: str) -> dict:
        if path.endswith("api/v1/projects"):
            return {"projects": []}
        now = datetime.now(UTC).isoformat()
        if path.endswith("api/v1/runs"):  # gocdnext: a total never reached
            run = {"id": str(uuid.uuid4()), "created_at": now, "status": "success", "project_slug": "p"}
            return {"runs": [run], "total": 10**9, "limit": 1, "offset": 0}
        if path.endswith("cicd/runs"):  # SourceCraft
            return {"runs": [{"id": str(uuid.uuid4())}], "next_page_token": str(uuid.uuid4())}
        return {"items": [{"id": str(uuid.uuid4())}], "next_page_token": str(uuid.uuid4())}

    def _export(self, path: str) -> dict:
        if path.endswith("usage_export_job"):
            return {"usage_export_job_id": "e-1", "state": "created"}
        return {"usage_export_job_id": "e-1", "state": "completed", "download_urls": [f"{self.url}/files/file.csv.gz"]}

    @staticmethod
    def _json(handler: BaseHTTPRequestHandler, body: dict) -> None:
        HostileServer._send(handler, 200, json.dumps(body).encode(), "application/json")

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, body: bytes, kind: str,
              headers: dict[str, str] | None = None) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", kind)
        handler.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)


@pytest.fixture
def servers():
    with HostileServer("127.0.0.2") as other, HostileServer(redirect_to=other.url) as server:
        yield server, other


OPEN: list = []  # clients a case made, closed after it


@pytest.fixture(autouse=True)
def _close_clients():
    yield
    while OPEN:
        OPEN.pop().close()


def _opened(client):
    OPEN.append(client)
    return client


def _circleci(base: str) -> CircleCIJsonClient:
    return _opened(CircleCIJsonClient(TOKEN, base, timeout_seconds=1.0, policy=POLICY))


def _usage(base: str) -> CircleCIUsageClient:
    return _opened(CircleCIUsageClient(TOKEN, base, timeout_seconds=1.0, policy=POLICY, poll_interval_seconds=0.01))


def _sourcecraft(base: str) -> SourceCraftClient:
    return _opened(SourceCraftClient(TOKEN, base, page_size=1, timeout_seconds=1.0, policy=POLICY))


def _gocdnext(base: str) -> GocdnextClient:
    return _opened(GocdnextClient(base, TOKEN, page_size=1, timeout_seconds=1.0, policy=POLICY))


def _window() -> tuple[datetime, datetime]:
    end = datetime(2026, 1, 2, tzinfo=UTC)
    return end - timedelta(days=1), end


Call = Callable[[str, Path], object]
# case -> (what is called against the server's URL + the prefix, the error class, what its one
# line says besides the URL, the longest it may take in seconds)
CASES: dict[str, tuple[str, Call, type[Exception], list[str], float]] = {
    "usage export API answers 200 with HTML": (
        "html", lambda url, _: _usage(url).create_export("org-1", ExportWindow(*_window())),
        ApiError, ["POST ", "/html/organizations/org-1/usage_export_job", "HTTP 200 but the body is not JSON (text/html"],
        DEADLINE,
    ),
    "usage export API answers 200 with JSON cut short": (
        "badjson", lambda url, _: _usage(url).get_export("org-1", "e-1"),
        ApiError, ["/badjson/organizations/org-1/usage_export_job/e-1", "the body is not JSON (application/json"],
        DEADLINE,
    ),
    "usage export API answers a JSON list": (
        "array", lambda url, _: _usage(url).get_export("org-1", "e-1"),
        ApiError, ["/array/organizations/org-1/usage_export_job/e-1", "expected a JSON object, got list"], DEADLINE,
    ),
    "usage export file trickles a byte every 0.2 s": (
        "export", lambda url, dest: _usage(url).export_usage("org-1", *_window(), dest),
        DeadlineExceeded, ["GET ", "/files/file.csv.gz", "deadline of 1.5 s"], DEADLINE + 1,
    ),
    "CircleCI API answers 200 with HTML": (
        "html", lambda url, _: _circleci(url).get("insights/gh/acme/api/workflows"),
        ApiError, ["GET insights/gh/acme/api/workflows: HTTP 200 but the response is not JSON (text/html"], DEADLINE,
    ),
    "CircleCI listing hands out a new page token every time": (
        "endless", lambda url, _: read_listing(_circleci(url).pages("pipeline", {"org-slug": "gh/acme"})),
        PageError, ["GET pipeline", f"still a next_page_token after {MAX_PAGES} pages"], DEADLINE,
    ),
    "CircleCI API hangs": (
        "hang", lambda url, _: _circleci(url).get("me"),
        DeadlineExceeded, ["GET ", "/hang/me", "deadline of 1.5 s"], DEADLINE + 1,
    ),
    "CircleCI API trickles its answer": (
        "trickle", lambda url, _: _circleci(url).get("me"),
        DeadlineExceeded, ["GET ", "/trickle/me", "deadline of 1.5 s"], DEADLINE + 1,
    ),
    "CircleCI API answers 429 with Retry-After: 3600": (
        "slow429", lambda url, _: _circleci(url).get("me"),
        DeadlineExceeded, ["GET ", "/slow429/me", "HTTP 429", "deadline of 1.5 s"], DEADLINE + 1,
    ),
    "CircleCI API answers 500 with a page of many lines, every time": (
        "500", lambda url, _: _circleci(url).get("me"),
        ApiError, ["GET ", "/500/me", "HTTP 500: <html> <head><title>502 Bad Gateway</title></head> <body>",
                   "(gave up after 3 attempts)"], DEADLINE,
    ),
    "SourceCraft answers 500 with a page of many lines, every time": (
        "500", lambda url, _: list(_sourcecraft(url).list_pages("repo-1")),
        SourceCraftError, ["SourceCraft repo repo-1, page 1", "HTTP 500: <html> <head>", "(gave up after 3 attempts)"],
        DEADLINE,
    ),
    "CircleCI API refuses the token (401, echoing it)": (
        "401", lambda url, _: _circleci(url).get("me"),
        ApiError, ["GET ", "/401/me", "HTTP 401: not allowed with ***"], DEADLINE,
    ),
    "CircleCI API redirects to another host": (
        "redirect", lambda url, _: _circleci(url).get("me"),
        ApiError, ["GET ", "/redirect/me", "HTTP 302: a redirect to http://127.0.0.2:", "not followed"], DEADLINE,
    ),
    "SourceCraft hands out a new page token every time": (
        "endless", lambda url, _: list(_sourcecraft(url).list_pages("repo-1")),
        SourceCraftError, ["SourceCraft repo repo-1: GET /repos/id:repo-1/cicd/runs",
                           f"still a next_page_token after {MAX_PAGES} pages"], DEADLINE,
    ),
    "SourceCraft answers 403": (
        "403", lambda url, _: list(_sourcecraft(url).list_pages("repo-1")),
        SourceCraftError, ["SourceCraft repo repo-1, page 1: GET /repos/id:repo-1/cicd/runs: HTTP 403", "Forbidden"],
        DEADLINE,
    ),
    "SourceCraft answers 200 with HTML": (
        "html", lambda url, _: list(_sourcecraft(url).list_pages("repo-1")),
        SourceCraftError, ["SourceCraft repo repo-1, page 1: GET /repos/id:repo-1/cicd/runs",
                           "the body is not a JSON object"], DEADLINE,
    ),
    "SourceCraft hangs": (
        "hang", lambda url, _: list(_sourcecraft(url).list_pages("repo-1")),
        SourceCraftError, ["SourceCraft repo repo-1, page 1", "/hang/repos/id:repo-1/cicd/runs", "deadline of 1.5 s"],
        DEADLINE + 1,
    ),
    "gocdnext total is never reached": (
        "endless", lambda url, _: _gocdnext(url).list_runs(None),
        ApiError, ["GET ", "/endless/api/v1/runs", f"more than {MAX_PAGES} pages"], DEADLINE,
    ),
    "gocdnext refuses the token (401, echoing it)": (
        "401", lambda url, _: _gocdnext(url).projects(),
        ApiError, ["GET ", "/401/api/v1/projects", "HTTP 401: not allowed with Bearer ***"], DEADLINE,
    ),
    "gocdnext answers 200 with bad JSON": (
        "badjson", lambda url, _: _gocdnext(url).projects(),
        ApiError, ["GET ", "/badjson/api/v1/projects", "but not JSON"], DEADLINE,
    ),
    "gocdnext trickles its answer": (
        "trickle", lambda url, _: _gocdnext(url).projects(),
        DeadlineExceeded, ["GET ", "/trickle/api/v1/projects", "deadline of 1.5 s"], DEADLINE + 1,
    ),
    "gocdnext redirects to another host": (
        "redirect", lambda url, _: _gocdnext(url).projects(),
        ApiError, ["GET ", "/redirect/api/v1/projects", "HTTP 302: a redirect to http://127.0.0.2:"], DEADLINE,
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_server(case: str, servers, tmp_path: Path):
    server, other = servers
    prefix, call, error, says, longest = CASES[case]
    started = time.monotonic()
    with pytest.raises(error) as raised:
        call(f"{server.url}/{prefix}", tmp_path)
    took = time.monotonic() - started
    message = str(raised.value)
    assert "\n" not in message and TOKEN not in message
    for part in says:
        assert part in message, message
    assert took < longest + 1.0, f"{case} took {took:.1f} s"
    assert server.requests, "the server was asked"
    assert not other.requests  # a redirect never took anything, the token least of all, to the other host
    assert not list(tmp_path.rglob("*.part")) and not list(tmp_path.rglob("*.gz"))  # no half download kept


def test_the_deadline_and_page_bound_come_from_the_environment(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CIWATCH_PULL_DEADLINE_SECONDS", "90")
    monkeypatch.setenv("CIWATCH_MAX_PAGES", "7")
    assert (RetryPolicy().deadline_seconds, RetryPolicy().max_pages) == (90.0, 7)
    monkeypatch.delenv("CIWATCH_PULL_DEADLINE_SECONDS")
    monkeypatch.delenv("CIWATCH_MAX_PAGES")
    assert (RetryPolicy().deadline_seconds, RetryPolicy().max_pages) == (6 * 3600.0, 10_000)
    monkeypatch.setenv("CIWATCH_MAX_PAGES", "0")
    with pytest.raises(ValueError, match="CIWATCH_MAX_PAGES must be a positive int, got '0'"):
        RetryPolicy()


def test_a_run_with_a_trickling_gocdnext_ends_by_its_deadline_while_circleci_usage_lands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """`ciwatch-etl run` with CircleCI on the simulator and gocdnext on a server that trickles:
    the run fails (exit 1) within the deadline plus Dagster's own time, its one error line names
    the gocdnext step and the request, and the CircleCI usage of the day is in the lake."""
    end = datetime.now(UTC).date() - timedelta(days=20)
    with Simulator(end_date=end, days=10) as sim, HostileServer() as server:
        monkeypatch.chdir(tmp_path)  # no stray .env from the working tree
        for name in ("SOURCECRAFT_TOKEN", "SOURCECRAFT_REPO_IDS", "CIRCLECI_PROJECT_SLUGS"):
            monkeypatch.delenv(name, raising=False)
        for name, value in {
            "CIWATCH_HOME": str(tmp_path / "home"), "CIRCLECI_API_URL": sim.circleci_api_url,
            "CIRCLECI_TOKEN": sim.token, "CIRCLECI_ORG_IDS": sim.org_ids[0], "CIRCLECI_POLL_SECONDS": "0.01",
            "GOCDNEXT_URL": f"{server.url}/trickle", "GOCDNEXT_TOKEN": TOKEN,
            "CIWATCH_PULL_DEADLINE_SECONDS": "3",
        }.items():
            monkeypatch.setenv(name, value)
        day = end - timedelta(days=2)
        started = time.monotonic()
        result = CliRunner().invoke(cli, ["run", "--since", day.isoformat(), "--until", day.isoformat(),
                                          "--select", "key:circleci_usage_jobs or group:gocdnext"])
        took = time.monotonic() - started
    assert result.exit_code == 1, result.output
    [line] = [line for line in result.output.splitlines() if line.startswith("gocdnext: ")]
    assert line == (f"gocdnext: ciwatch_etl.sources.http.DeadlineExceeded: GET {server.url}/trickle/api/v1/projects: "
                    "stopped at the pull's deadline of 3 s (CIWATCH_PULL_DEADLINE_SECONDS)")
    assert TOKEN not in result.output
    assert took < 60
    [(landed,)] = lake_rows(tmp_path / "home" / "lake", "count(*)", f"job_run_date = '{day}'")
    assert landed > 0  # the other source's day is in the lake


@pytest.mark.parametrize("selection", ["circleci_usage_jobs or gocdnext_runs", "no_such_asset"])
def test_a_selection_dagster_cannot_read_is_a_usage_error(selection: str, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CIWATCH_HOME", str(tmp_path / "home"))
    result = CliRunner().invoke(cli, ["run", "--select", selection])
    assert result.exit_code == 2
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    assert f"error: Invalid value for --select: '{selection}': " in result.output
