"""The gocdnext client against the simulator over real HTTP: paging, shifts, errors, faults, secrecy."""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from ciwatch_etl.simulator.gocdnext import GocdnextSimulator
from ciwatch_etl.sources.gocdnext.client import GocdnextClient, base_url
from ciwatch_etl.sources.gocdnext.records import KnownRun, parse_time
from ciwatch_etl.sources.http import ApiError, RetryPolicy

NOW = datetime(2026, 5, 12, 15, 30, tzinfo=UTC)
FAST = RetryPolicy(attempts=4, backoff_seconds=0.01, backoff_max_seconds=0.05, retry_after_cap_seconds=0.2)


@pytest.fixture
def sim() -> Iterator[GocdnextSimulator]:
    with GocdnextSimulator(now=NOW, days=10) as simulator:
        yield simulator


def client(sim: GocdnextSimulator, **options) -> GocdnextClient:
    return GocdnextClient(sim.url, sim.token, policy=FAST, **options)


def naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def list_requests(sim: GocdnextSimulator) -> list[str]:
    return [r.query for r in sim.requests if r.path == "/api/v1/runs"]


def test_parse_time_and_base_url():
    assert parse_time("2026-04-28T12:34:56.123456789Z") == datetime(2026, 4, 28, 12, 34, 56, 123456)
    assert parse_time("2026-04-28T14:34:56+02:00") == datetime(2026, 4, 28, 12, 34, 56)
    assert parse_time("2026-04-28T12:34:56.1Z") == datetime(2026, 4, 28, 12, 34, 56, 100000)
    assert parse_time(None) is None
    assert base_url("https://ci.example.com/api/v1/") == base_url("https://ci.example.com") == "https://ci.example.com"


def test_first_listing_reaches_initial_days_back_from_the_newest_run(sim: GocdnextSimulator):
    with client(sim) as c:
        listing = c.list_runs(None, initial=timedelta(days=2))
    cutoff = sim.newest_created_at() - timedelta(days=2)
    assert listing.cutoff == naive(cutoff)
    ids = [r["id"] for r in listing.runs]
    assert len(ids) == len(set(ids)) and set(ids) == sim.expected_run_ids(since=cutoff)
    assert all("limit=200" in q for q in list_requests(sim))


@pytest.mark.parametrize("page_size", [7, 50])
def test_pages_stop_at_the_last_page_without_an_extra_request(sim: GocdnextSimulator, page_size: int):
    total = len(sim.expected_run_ids())
    with client(sim, page_size=page_size) as c:
        listing = c.list_runs(naive(datetime(2000, 1, 1, tzinfo=UTC)))
    assert len(listing.runs) == total and listing.pages == math.ceil(total / page_size)
    assert listing.duplicates_dropped == listing.head_rereads == 0


def test_exact_multiple_of_the_page_size_needs_no_empty_page(sim: GocdnextSimulator):
    total = len(sim.expected_run_ids())
    size = next(s for s in range(5, 200) if total % s == 0)
    with client(sim, page_size=size) as c:
        listing = c.list_runs(naive(datetime(2000, 1, 1, tzinfo=UTC)))
    assert (len(listing.runs), listing.pages) == (total, total // size)


def test_empty_result_is_one_request(sim: GocdnextSimulator):
    with client(sim) as c:
        listing = c.list_runs(None, project="no-such-project")
    assert (listing.runs, listing.cutoff, listing.pages) == ([], None, 1)


def test_listing_stops_at_the_cutoff(sim: GocdnextSimulator):
    since = naive(NOW - timedelta(hours=20))
    with client(sim, page_size=10) as c:
        listing = c.list_runs(since)
    assert {r["id"] for r in listing.runs} == sim.expected_run_ids(since=since)
    # the page holding the first older run is the last one read
    assert listing.pages in (math.ceil(len(listing.runs) / 10), math.ceil(len(listing.runs) / 10) + 1)
    assert listing.pages < math.ceil(len(sim.expected_run_ids()) / 10)


def test_runs_inserted_while_paging_are_neither_missed_nor_duplicated(sim: GocdnextSimulator):
    sim.faults.insert_runs_while_paging(times=4, runs_per_page=4)
    with client(sim, page_size=25) as c:
        listing = c.list_runs(naive(datetime(2000, 1, 1, tzinfo=UTC)))
    ids = [r["id"] for r in listing.runs]
    assert len(ids) == len(set(ids))
    assert set(ids) == sim.expected_run_ids()  # including the 16 runs created while we paged
    assert listing.duplicates_dropped == 16 and listing.head_rereads >= 1 and listing.shifts_seen == 4
    created = [parse_time(r["created_at"]) for r in listing.runs]
    assert created == sorted(created, reverse=True)


def test_limit_is_clamped_by_the_server_and_checked_by_the_client(sim: GocdnextSimulator):
    with client(sim) as c:
        page = c.runs_page(1000, 0)
    assert page["total"] > 200 and (page["limit"], len(page["runs"])) == (200, 200)
    with pytest.raises(ValueError, match="page_size"):
        GocdnextClient(sim.url, sim.token, page_size=201)


def test_plain_text_errors_name_the_request_and_status(sim: GocdnextSimulator):
    with client(sim) as c:
        with pytest.raises(ApiError) as bad:
            c.runs_page(0, 0)
        assert bad.value.status == 400
        assert str(bad.value) == f"GET {sim.url}/api/v1/runs: HTTP 400: invalid 'limit' query [limit=0 offset=0]"
        assert c.run_detail(str(uuid.uuid4())) is None  # 404 run not found
    with GocdnextClient(sim.url, "gcn_not_the_token", policy=FAST) as wrong:
        with pytest.raises(ApiError) as denied:
            wrong.projects()
    assert denied.value.status == 401 and "HTTP 401: unauthorized" in str(denied.value)
    assert "gcn_not_the_token" not in str(denied.value)


def test_not_json_is_a_clear_error(sim: GocdnextSimulator):
    with GocdnextClient(sim.url + "/elsewhere", sim.token, policy=FAST) as c:
        with pytest.raises(ApiError, match=r"GET .*/elsewhere/api/v1/projects: HTTP 404: 404 page not found"):
            c.projects()


def test_rate_limits_server_errors_and_slow_answers_are_retried(sim: GocdnextSimulator):
    sim.faults.rate_limit(times=2, retry_after=0)
    sim.faults.server_error(times=1, status=502)
    with client(sim) as c:
        assert len(c.projects()) == 5
    statuses = [r.status for r in sim.requests]
    assert statuses == [429, 429, 502, 200]
    sim.faults.slow(times=1, seconds=1.0)
    with GocdnextClient(sim.url, sim.token, policy=FAST, timeout_seconds=0.3) as c:
        assert len(c.projects()) == 5
    sim.faults.server_error(times=10)
    with client(sim) as c, pytest.raises(ApiError, match=r"HTTP 500: internal error.*gave up after 4 attempts"):
        c.projects()


def test_pull_fetches_only_new_changed_or_unfinished_runs(sim: GocdnextSimulator):
    with client(sim) as c:
        first = c.pull(None, {}, initial=timedelta(days=3))
        assert {d["id"] for d in first.details} == {r["id"] for r in first.listing.runs}
        assert all(r.query == "logs=0" for r in sim.requests if r.path.startswith("/api/v1/runs/"))
        known = {d["id"]: KnownRun.of(d) for d in first.details}
        oldest = min(first.listing.runs, key=lambda r: r["created_at"])
        gone = str(uuid.uuid4())
        again = c.pull(naive(NOW - timedelta(hours=6)), known, open_run_ids=[oldest["id"], gone])
    unfinished = {run_id for run_id, k in known.items() if not k.finished}
    listed = {r["id"] for r in again.listing.runs}
    fetched = {d["id"] for d in again.details}
    assert unfinished and unfinished & listed <= fetched
    assert oldest["id"] in fetched and again.vanished == [gone]
    assert again.unchanged == len({i for i in listed if i in known and known[i].finished})
    assert fetched == (listed - {i for i in listed if i in known and known[i].finished}) | {oldest["id"]}


def test_token_never_in_logs_or_errors(sim: GocdnextSimulator, caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.DEBUG)
    sim.faults.rate_limit(times=1, retry_after=0)
    sim.faults.server_error(times=1)
    with client(sim) as c:
        c.pull(None, {}, open_run_ids=[str(uuid.uuid4())], initial=timedelta(days=1))
        with pytest.raises(ApiError) as error:
            c.runs_page(-1, 0)
    assert sim.token not in caplog.text and sim.token not in str(error.value)
    assert "retrying" in caplog.text  # the retries were logged, without the token
    assert {r.headers.get("authorization") for r in sim.requests} == {f"Bearer {sim.token}"}


def test_runs_deleted_while_paging_make_the_client_read_again_from_further_up():
    """Deleting a run above our position moves rows up: the client steps back instead of skipping one."""
    runs = [{"id": str(uuid.UUID(int=i)), "created_at": f"2026-05-01T{23 - i // 60:02d}:{59 - i % 60:02d}:00Z"}
            for i in range(30)]
    deleted: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        limit, offset = int(request.url.params["limit"]), int(request.url.params["offset"])
        if offset > 0 and not deleted:
            deleted.append(runs.pop(0)["id"])  # an admin deletes the newest run between two pages
        return httpx.Response(200, json={"runs": runs[offset:offset + limit], "total": len(runs),
                                         "limit": limit, "offset": offset})

    with GocdnextClient("http://gocdnext.test", "gcn_test", page_size=10, policy=FAST,
                        transport=httpx.MockTransport(handler)) as c:
        listing = c.list_runs(datetime(2000, 1, 1))
    ids = [r["id"] for r in listing.runs]
    assert len(ids) == len(set(ids)) == 30  # the deleted run was read before it went; none skipped
    assert (listing.shifts_seen, listing.pages, listing.duplicates_dropped) == (1, 4, 0)
