"""The SourceCraft client against the simulator over real HTTP: paging, incremental pulls,
errors, faults, token secrecy; and reading odd protobuf-JSON."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta

import pytest

from ciwatch_etl.simulator.sourcecraft import SourceCraftSimulator
from ciwatch_etl.sources.http import RetryPolicy
from ciwatch_etl.sources.sourcecraft.client import (
    SourceCraftClient,
    SourceCraftError,
)
from ciwatch_etl.sources.sourcecraft.records import parse_run

FAST = RetryPolicy(attempts=4, backoff_seconds=0.02, backoff_max_seconds=0.1, retry_after_cap_seconds=2.0)
NOW = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def sim():
    with SourceCraftSimulator(now=NOW, days=20) as simulator:
        yield simulator


@pytest.fixture(autouse=True)
def _clean(sim):
    sim.faults.clear()
    sim.requests.clear()
    yield
    sim.faults.clear()


def client(sim: SourceCraftSimulator, **kwargs) -> SourceCraftClient:
    kwargs.setdefault("page_size", 25)
    return SourceCraftClient(sim.token, sim.api_url, policy=FAST, **kwargs)


def list_requests(sim: SourceCraftSimulator, repo_id: str) -> list:
    return [r for r in sim.requests if r.path == f"/repos/id:{repo_id}/cicd/runs"]


def naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def test_full_pull_reads_every_run_once_newest_first(sim):
    repo_id = sim.repo_ids[0]
    expected = sim.expected_runs(repo_id)
    with client(sim) as c:
        pull = c.pull(repo_id, since=None)
    assert [r.slug for r in pull.runs] == [r["slug"] for r in expected]
    assert pull.pages == -(-len(expected) // 25) == len(list_requests(sim, repo_id))
    # The last page came without a token, and the client asked for nothing after it.
    assert "page_token" not in list_requests(sim, repo_id)[0].query
    assert all(r.source.startswith(f"GET /repos/id:{repo_id}/cicd/runs page ") for r in pull.runs)


def test_incremental_pull_stops_at_the_first_page_older_than_since(sim):
    repo_id = sim.repo_ids[0]
    since = naive(sim.now) - timedelta(days=2)
    expected = sim.expected_runs(repo_id, since)
    with client(sim, page_size=10) as c:
        pull = c.pull(repo_id, since)
    assert [r.slug for r in pull.runs] == [r["slug"] for r in expected]
    assert pull.pages == len(expected) // 10 + 1 == len(list_requests(sim, repo_id))


def test_unfinished_runs_older_than_since_are_read_again_one_by_one(sim):
    repo_id = sim.repo_ids[0]
    stuck = [r for r in sim.expected_runs(repo_id) if r["status"] == "prepared"
             and r["dates"]["created_at"] < (sim.now - timedelta(days=4)).isoformat()]
    assert len(stuck) == 1  # waiting for a runner for days
    with client(sim) as c:
        pull = c.pull(repo_id, naive(sim.now) - timedelta(days=1), reread=[stuck[0]["slug"], "999999"])
    assert pull.runs_reread == [stuck[0]["slug"], "999999"] and pull.runs_gone == ["999999"]
    reread = pull.runs[-1]
    assert (reread.slug, reread.status, reread.page) == (stuck[0]["slug"], "prepared", None)
    assert reread.source == f"GET /repos/id:{repo_id}/cicd/runs/{stuck[0]['slug']}"


def test_reread_runs_the_listing_reached_are_not_fetched_again(sim):
    repo_id = sim.repo_ids[1]
    recent = sim.expected_runs(repo_id)[0]["slug"]
    with client(sim) as c:
        pull = c.pull(repo_id, naive(sim.now) - timedelta(days=1), reread=[recent])
    assert pull.runs_reread == []
    assert not [r for r in sim.requests if r.path.endswith(f"/cicd/runs/{recent}")]


def test_empty_repo_is_one_request_and_no_runs(sim):
    with client(sim) as c:
        pull = c.pull(sim.empty_repo_id, since=None)
    assert (pull.runs, pull.pages, len(sim.requests)) == ([], 1, 1)


def test_an_empty_page_ends_paging_even_with_a_token(sim):
    repo_id = sim.repo_ids[1]
    with client(sim, page_size=10) as c:
        pages = c.list_pages(repo_id)
        first, second = next(pages), next(pages)
        sim.faults.endless_empty_page()
        assert next(pages) == (3, [])
        assert next(pages, None) is None
    assert [len(first[1]), len(second[1])] == [10, 10]
    assert len(list_requests(sim, repo_id)) == 3


def test_runs_created_while_paging_are_neither_missed_nor_duplicated():
    with SourceCraftSimulator(now=NOW, days=10) as sim:
        repo_id = sim.repo_ids[0]
        before = [r["slug"] for r in sim.expected_runs(repo_id)]
        sim.faults.insert_runs_while_paging(times=2, count=3)
        with client(sim, page_size=15) as c:
            pull = c.pull(repo_id, since=None)
            # Each shifted page repeated three runs of the page before it; each is kept once.
            assert pull.runs_repeated == 6
            assert sorted(r.slug for r in pull.runs) == sorted(before)
            # The six runs created meanwhile are the newest, and the next pull has them.
            later = c.pull(repo_id, since=naive(sim.now) - timedelta(hours=1))
        inserted = {r.slug for r in later.runs} - set(before)
        assert len(inserted) == 6 and min(int(s) for s in inserted) > max(int(s) for s in before)


def test_a_page_token_given_twice_stops_paging_with_an_error(sim, monkeypatch):
    repo_id = sim.repo_ids[0]
    with client(sim, page_size=10) as c:
        real = c._get

        def same_token(path, params, repo, what):
            # A server that ignores the token: every page is the first, with the same next token.
            return real(path, {k: v for k, v in params.items() if k != "page_token"}, repo, what)

        monkeypatch.setattr(c, "_get", same_token)
        with pytest.raises(SourceCraftError, match=r"page 2: the API gave a page token it had given before"):
            list(c.list_pages(repo_id))


@pytest.mark.parametrize(
    ("repo", "status", "code", "fragment"),
    [
        ("forbidden", 403, "PermissionDenied", "permission=src.repositories.listCI"),
        ("unknown", 404, "NotFound", "repository id:no-such-repo not found"),
    ],
)
def test_client_errors_name_repo_page_status_and_the_envelope(sim, repo, status, code, fragment):
    repo_id = sim.forbidden_repo_id if repo == "forbidden" else "no-such-repo"
    with client(sim) as c, pytest.raises(SourceCraftError) as raised:
        c.pull(repo_id, since=None)
    error = raised.value
    message = str(error)
    assert f"SourceCraft repo {repo_id}, page 1: GET /repos/id:{repo_id}/cicd/runs: HTTP {status} {code}" in message
    assert fragment in message and "request_id=" in message
    assert (error.status, error.error_code, error.repo_id) == (status, code, repo_id)
    assert len(sim.requests) == 1  # a client error is not retried


def test_a_wrong_token_fails_once_and_is_never_shown(sim, caplog):
    secret = "sc-pat-SECRET-value-that-must-not-leak"
    caplog.set_level(logging.DEBUG)
    with SourceCraftClient(secret, sim.api_url, policy=FAST) as c, pytest.raises(SourceCraftError) as raised:
        c.pull(sim.repo_ids[0], since=None)
    assert raised.value.status == 401 and "Unauthenticated" in str(raised.value)
    assert secret not in str(raised.value) and secret not in caplog.text
    (request,) = sim.requests
    assert request.headers["authorization"] == f"Bearer {secret}" and secret not in request.query


def test_rate_limits_and_server_errors_are_retried(sim):
    repo_id = sim.repo_ids[2]
    sim.faults.rate_limit(times=1, retry_after=1)
    sim.faults.server_error(times=1, status=500)  # armed faults queue: the 429 first, then the 500
    with client(sim) as c:
        started = datetime.now()
        pull = c.pull(repo_id, since=None)
        waited = (datetime.now() - started).total_seconds()
    assert [r.slug for r in pull.runs] == [r["slug"] for r in sim.expected_runs(repo_id)]
    assert [r.status for r in sim.requests][:3] == [429, 500, 200]
    assert waited >= 1.0  # Retry-After was honoured


@pytest.mark.parametrize("status", [502, 503, 504])
def test_gateway_errors_with_html_bodies_are_retried(sim, status):
    sim.faults.server_error(times=2, status=status)
    with client(sim) as c:
        pull = c.pull(sim.empty_repo_id, since=None)
    assert pull.runs == [] and [r.status for r in sim.requests] == [status, status, 200]


def test_persistent_server_errors_give_up_naming_repo_page_and_status(sim):
    repo_id = sim.repo_ids[0]
    with client(sim, page_size=10) as c:
        pages = c.list_pages(repo_id)
        next(pages)
        sim.faults.server_error(times=10, status=503)
        with pytest.raises(SourceCraftError) as raised:
            next(pages)
    message = str(raised.value)
    assert message.startswith(f"SourceCraft repo {repo_id}, page 2: GET http://127.0.0.1:")
    assert "HTTP 503" in message and "gave up after 4 attempts" in message and raised.value.status == 503


def test_slow_answers_time_out_and_are_retried(sim):
    sim.faults.slow(times=1, seconds=1.0)
    with client(sim, timeout_seconds=0.3) as c:
        pull = c.pull(sim.empty_repo_id, since=None)
    assert pull.pages == 1
    # The server logs a request once it has answered: the slow one is logged after the retry.
    deadline = time.monotonic() + 3
    while len(sim.requests) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(sim.requests) == 2


def test_the_servers_own_rate_limit_is_waited_out():
    with SourceCraftSimulator(now=NOW, days=10, requests_per_window=3, window_seconds=1.0) as sim:
        repo_id = sim.repo_ids[0]
        with client(sim, page_size=20) as c:
            pull = c.pull(repo_id, since=None)
        assert len(pull.runs) == len(sim.expected_runs(repo_id))
        statuses = [r.status for r in sim.requests]
        assert 429 in statuses and statuses[-1] == 200


def test_parse_keeps_microseconds_of_nanosecond_times_and_reads_omitted_fields_as_none():
    run = parse_run(
        {
            "slug": "12",
            "id": "",
            "dates": {"created_at": "2026-01-02T03:04:05Z", "started_at": "2026-01-02T03:04:06.123456789Z",
                      "finished_at": "2026-01-02T06:04:06.5+03:00"},
            "status": "success",
            "workflows": [{"slug": "ci", "progress": {}, "tasks": [{"slug": "build", "cubes": [
                {"slug": "compile", "artifacts": [{"local_path": "a"}, {"local_path": "b"}],
                 "relations": {"needs": [{"name": "checkout"}]}}]}]}],
        },
        "repo-1", "GET /x page 1", 1, datetime(2026, 1, 3),
    )
    assert run.id is None and run.event_type is None and run.error_messages == () and run.pull_id is None
    assert run.dates.started_at == datetime(2026, 1, 2, 3, 4, 6, 123456)
    assert run.dates.finished_at == datetime(2026, 1, 2, 3, 4, 6, 500000)
    assert run.dates.updated_at is None
    (workflow,) = run.workflows
    assert workflow.progress_percent == 0.0 and workflow.status is None
    cube = workflow.tasks[0].cubes[0]
    assert (cube.artifact_count, cube.needs, workflow.tasks[0].progress_percent) == (2, ("checkout",), None)
    assert run.parse_errors == ()


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ({"slug": 12}, "run.slug: expected a string, got int"),
        ({"dates": {"created_at": "2026-01-02"}}, "run.dates.created_at: not an RFC 3339 date-time ('2026-01-02')"),
        ({"dates": {"created_at": "2026-13-02T00:00:00Z"}}, "run.dates.created_at: not an RFC 3339 date-time"),
        ({"workflows": {"slug": "ci"}}, "run.workflows: expected a list, got dict"),
        ({"workflows": ["ci"]}, "workflow 1: expected an object, got str"),
        ({"error_messages": ["boom", 3]}, "run.error_messages: expected a string, got int"),
    ],
)
def test_values_of_the_wrong_shape_become_none_with_a_reason(raw, error):
    run = parse_run({"slug": "1", **raw}, "repo-1", "GET /x page 1", 1, datetime(2026, 1, 3))
    errors = run.parse_errors + tuple(e for w in run.workflows for e in w.parse_errors)
    assert any(error in e for e in errors), errors
