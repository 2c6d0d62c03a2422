"""The CircleCI simulator's Insights over real HTTP: pages, the retention window and advance(),
branch scope, parameters, and numbers that reconcile with the usage export of the same world."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from simulator_helpers import api_client, get_json

from ciwatch_etl.simulator.circleci import Simulator

END_DATE = date(2025, 10, 31)
SLUG = "gh/acme-robotics/data-pipeline"  # pays for docker layer caching in its deploy workflow
RUNNING_SLUG = "gh/acme-robotics/auth-service"  # nightly at about 01:54 UTC: running at 02:00
NON_COMPUTE = ("DLC_CREDITS", "USER_CREDITS", "STORAGE_CREDITS", "NETWORK_CREDITS", "LEASE_CREDITS",
               "LEASE_OVERAGE_CREDITS", "IPRANGES_CREDITS")


@pytest.fixture(scope="module")
def sim():
    with Simulator(end_date=END_DATE, days=100, seed=7) as simulator:
        yield simulator


@pytest.fixture(scope="module")
def api(sim):
    with api_client(sim) as c:
        yield c


def walk(api: httpx.Client, path: str, **params: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every item of every page, and the pages' bodies."""
    items, bodies, token = [], [], None
    while True:
        body = get_json(api, path, **params, **({"page-token": token} if token else {}))
        items += body["items"]
        bodies.append(body)
        token = body.get("next_page_token")
        if token is None:
            return items, bodies


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text)


# -- workflow runs: pages, window, scope ---------------------------------------------------------


def test_workflow_runs_page_through_the_90_day_window(sim, api):
    runs, bodies = walk(api, f"/insights/{SLUG}/workflows/build-and-test", **{"all-branches": "true"})
    ids = [r["id"] for r in runs]
    assert len(ids) == len(set(ids)) and len(bodies) == -(-len(runs) // 30) > 3
    created = [utc(r["created_at"]) for r in runs]
    assert created == sorted(created, reverse=True), "newest first"
    assert sim.now - timedelta(days=90) <= created[-1] < sim.now - timedelta(days=87), "a weekend may be quiet"
    assert all(isinstance(b["next_page_token"], str) for b in bodies[:-1]) and "next_page_token" not in bodies[-1]
    project = sim.timeline.project(SLUG)
    expected = {w.id for d in sim.timeline.days_newest_first() for w in sim.timeline.workflows_created_on(project, d)
                if w.name == "build-and-test" and w.created_at >= sim.now - timedelta(days=90)}
    assert set(ids) == expected
    assert {r["status"] for r in runs} == {"success", "failed", "canceled"}
    for run in runs:
        assert run["duration"] == round((utc(run["stopped_at"]) - utc(run["created_at"])).total_seconds())

    main = get_json(api, f"/insights/{SLUG}/workflows/build-and-test")["items"]
    assert {r["branch"] for r in main} == {"main"}, "the default branch unless told otherwise"
    feature = next(r["branch"] for r in runs if r["branch"] != "main")
    scoped, _ = walk(api, f"/insights/{SLUG}/workflows/build-and-test", branch=feature)
    assert [r["id"] for r in scoped] == [r["id"] for r in runs if r["branch"] == feature]
    both, _ = walk(api, f"/insights/{SLUG}/workflows/build-and-test", branch=feature, **{"all-branches": "true"})
    assert len(both) == len(runs), "all-branches wins over branch"


def test_start_and_end_dates_select_runs_by_creation(api):
    start, end = "2025-10-20T00:00:00Z", "2025-10-27T00:00:00Z"
    runs, _ = walk(api, f"/insights/{SLUG}/workflows/nightly", **{"start-date": start, "end-date": end})
    # One scheduled run a day, and a re-run on some days the first one failed.
    assert {utc(r["created_at"]).date() for r in runs} == {date(2025, 10, d) for d in range(20, 27)}
    assert 7 <= len(runs) < 14
    old = get_json(api, f"/insights/{SLUG}/workflows/nightly", **{"start-date": "2025-01-01T00:00:00Z",
                                                             "end-date": "2025-03-01T00:00:00Z"})
    assert old["items"] == [], "older than Insights keeps"


def test_bad_parameters_get_400(api):
    cases = [
        (f"/insights/{SLUG}/workflows/nightly", {"end-date": "2025-10-27T00:00:00Z"}, "start-date must be specified"),
        (f"/insights/{SLUG}/workflows/nightly", {"start-date": "2025-06-01T00:00:00Z",
                                                 "end-date": "2025-10-01T00:00:00Z"}, "at most 90 days"),
        (f"/insights/{SLUG}/workflows/nightly", {"start-date": "2025-10-20"}, "RFC 3339"),
        (f"/insights/{SLUG}/workflows", {"reporting-window": "last-year"}, "reporting-window"),
        (f"/insights/{SLUG}/workflows", {"all-branches": "yes"}, "all-branches"),
        (f"/insights/time-series/{SLUG}/workflows/nightly/jobs", {"granularity": "weekly"}, "granularity"),
        (f"/insights/{SLUG}/workflows/nightly", {"page-token": "%%%"}, "page-token"),
    ]
    for path, params, text in cases:
        response = api.get(path, params=params)
        assert response.status_code == 400 and text in response.json()["message"], (path, params, response.text)
    missing = api.get("/insights/gh/acme-robotics/nope/workflows")
    assert missing.status_code == 404 and missing.json() == {"message": "Project not found"}


# -- summaries agree with the runs -----------------------------------------------------------------


def test_workflow_summary_adds_up_its_runs(api):
    for window, days in (("last-7-days", 7), ("last-30-days", 30)):
        summary = {i["name"]: i for i in get_json(api, f"/insights/{SLUG}/workflows",
                                             **{"reporting-window": window, "all-branches": "true"})["items"]}
        start = (datetime(2025, 11, 1, 2, tzinfo=UTC) - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")
        for name, item in summary.items():
            runs, _ = walk(api, f"/insights/{SLUG}/workflows/{name}", **{"all-branches": "true", "start-date": start})
            metrics = item["metrics"]
            assert metrics["total_runs"] == len(runs)
            assert metrics["total_credits_used"] == sum(r["credits_used"] for r in runs)
            assert metrics["successful_runs"] == sum(r["status"] == "success" for r in runs)
            assert metrics["failed_runs"] == sum(r["status"] == "failed" for r in runs)
            assert metrics["throughput"] == pytest.approx(len(runs) / days)
            durations = sorted(r["duration"] for r in runs if r["duration"] is not None)
            duration = metrics["duration_metrics"]
            assert (duration["min"], duration["max"]) == (durations[0], durations[-1])
            assert duration["total_duration"] == sum(durations)
            assert item["window_start"] == min(r["created_at"] for r in runs)


def test_job_metrics_and_daily_series_count_the_same_runs(api):
    start = "2025-10-02T00:00:00Z"  # the day "last-30-days" starts, 30 days before 02:00 on 1 November
    metrics = {i["name"]: i["metrics"] for i in get_json(api, f"/insights/{SLUG}/workflows/build-and-test/jobs",
                                                     **{"reporting-window": "last-30-days"})["items"]}
    series = get_json(api, f"/insights/time-series/{SLUG}/workflows/build-and-test/jobs", **{"start-date": start})["items"]
    per_job: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in series:
        per_job[item["name"]].append(item)
        stamp = utc(item["timestamp"])
        assert stamp.time() == datetime.min.time() and stamp <= utc(item["min_started_at"])
    assert set(per_job) == set(metrics) == {"changes-check", "lint", "unit-tests", "build", "integration-tests"}
    # Runs are counted by their workflow's creation in the summary, by job start in the series:
    # the 30-day window starts at 02:00, the series at midnight.
    for name, items in per_job.items():
        runs = sum(i["metrics"]["total_runs"] for i in items)
        assert 0 <= runs - metrics[name]["total_runs"] <= 3, name
    only = get_json(api, f"/insights/{SLUG}/workflows/build-and-test/jobs", **{"job-name": "tests"})["items"]
    assert {i["name"] for i in only} == {"unit-tests", "integration-tests"}, "a substring of the job name"


def test_hourly_series_covers_only_the_last_48_hours(sim, api):
    path = f"/insights/time-series/{RUNNING_SLUG}/workflows/nightly/jobs"
    hourly = get_json(api, path, granularity="hourly", **{"start-date": "2025-10-01T00:00:00Z"})["items"]
    stamps = {utc(i["timestamp"]) for i in hourly}
    assert stamps and min(stamps) >= sim.now - timedelta(hours=48)
    assert all(t.minute == 0 for t in stamps) and len({t.date() for t in stamps}) == 2
    daily = get_json(api, path, **{"start-date": "2025-01-01T00:00:00Z"})["items"]
    assert min(utc(i["timestamp"]) for i in daily) >= sim.now - timedelta(days=91)


# -- reconciliation with the usage export -----------------------------------------------------------


def test_insights_credits_are_the_usage_exports_compute_and_dlc_credits(sim, api):
    """Per workflow run, Insights' credits are the usage rows' compute plus docker layer caching
    credits (rounded to whole credits), as CircleCI documents them; what the bill adds on top is
    exactly the other buckets (user, storage, network, lease, IP ranges)."""
    org_id = sim.org_ids[0]
    first_day, last_day = date(2025, 10, 20), date(2025, 10, 29)
    rows = sim.expected_usage_rows(org_id, datetime(2025, 10, 19, tzinfo=UTC), datetime(2025, 11, 1, tzinfo=UTC))
    by_workflow: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_workflow[row["WORKFLOW_ID"]].append(row)

    runs_with_dlc = 0
    params = {"all-branches": "true", "start-date": f"{first_day}T00:00:00Z", "end-date": f"{last_day}T23:59:59Z"}
    for slug in sim.project_slugs[:8]:
        for name in ("build-and-test", "deploy", "nightly"):
            for run in walk(api, f"/insights/{slug}/workflows/{name}", **params)[0]:
                usage = by_workflow[run["id"]]
                compute_dlc = sum(r["COMPUTE_CREDITS"] + r["DLC_CREDITS"] for r in usage)
                total = sum(r["TOTAL_CREDITS"] for r in usage)
                assert abs(run["credits_used"] - compute_dlc) <= 0.5 + 1e-6, run["id"]
                others = [c for c in NON_COMPUTE if c != "DLC_CREDITS"]
                assert total - compute_dlc == pytest.approx(sum(r[c] for r in usage for c in others))
                runs_with_dlc += any(r["DLC_CREDITS"] for r in usage)
    assert runs_with_dlc > 0


# -- running runs, advance() and the retention window ------------------------------------------------


def test_running_runs_then_advance_moves_the_window():
    with Simulator(end_date=END_DATE, days=30, seed=7, insights_retention_days=10) as small, api_client(small) as c:
        path = f"/insights/{RUNNING_SLUG}/workflows/nightly"
        runs, _ = walk(c, path)
        running = runs[0]
        assert (running["status"], running["stopped_at"], running["duration"]) == (None, None, None)
        assert running["credits_used"] < runs[1]["credits_used"], "only finished jobs count so far"
        # 10 days back from 02:00 on 1 November: the nightly run of 22 October, at 01:54, is out.
        assert [utc(r["created_at"]).date() for r in runs][-1] == date(2025, 10, 23), "10 days of retention"
        summary = get_json(c, f"/insights/{RUNNING_SLUG}/workflows")["items"]
        nightly = next(i for i in summary if i["name"] == "nightly")["metrics"]
        assert nightly["total_runs"] == len(runs) == nightly["successful_runs"] + nightly["failed_runs"] + 1

        small.advance(3)
        later, _ = walk(c, path)
        finished = next(r for r in later if r["id"] == running["id"])
        assert {utc(r["created_at"]).date() for r in later[:later.index(finished)]} == {
            date(2025, 11, 2), date(2025, 11, 3), date(2025, 11, 4)}, "three new mornings"
        assert finished["status"] in {"success", "failed"} and finished["duration"] > 0
        assert finished["credits_used"] > running["credits_used"]
        assert later[0]["status"] is None, "a new morning, a new nightly running"
        assert [utc(r["created_at"]).date() for r in later][-1] == date(2025, 10, 26), "old runs left the window"
        assert small.now - timedelta(days=10) <= utc(later[-1]["created_at"])


def test_retention_must_be_positive():
    with pytest.raises(ValueError):
        Simulator(end_date=END_DATE, days=10, insights_retention_days=0)


# -- tests: flaky and metrics --------------------------------------------------------------------------


def test_flaky_tests_point_at_failed_jobs_that_passed_on_re_run(sim, api):
    body = get_json(api, f"/insights/{SLUG}/flaky-tests")
    flaky = body["flaky_tests"]
    assert flaky and body["total_flaky_tests"] == len(flaky)
    assert len({(f["job_name"], f["classname"], f["test_name"]) for f in flaky}) == len(flaky)
    for test in flaky:
        assert utc(test["workflow_created_at"]) >= sim.now - timedelta(days=14)
        assert test["times_flaked"] >= 1 and test["time_wasted"] > 0
        job = get_json(api, f"/project/{SLUG}/job/{test['job_number']}")
        assert (job["status"], job["name"], job["latest_workflow"]["id"]) == (
            "failed", test["job_name"], test["workflow_id"])
        rerun = [w for w in get_json(api, f"/pipeline/{job['pipeline']['id']}/workflow")["items"]
                 if w["name"] == test["workflow_name"] and w["id"] != test["workflow_id"]]
        assert rerun, "the same commit ran the workflow again"
        again = [j for j in get_json(api, f"/workflow/{rerun[0]['id']}/job")["items"] if j["name"] == test["job_name"]]
        assert again[0]["status"] == "success"


def test_test_metrics_cover_the_ten_latest_runs(api):
    metrics = get_json(api, f"/insights/{SLUG}/workflows/build-and-test/test-metrics")
    latest = [r for r in get_json(api, f"/insights/{SLUG}/workflows/build-and-test")["items"] if r["status"]][:10]
    assert {t["workflow_id"] for t in metrics["test_runs"]} <= {r["id"] for r in latest}
    assert metrics["total_test_runs"] == sum(t["test_counts"]["total"] for t in metrics["test_runs"])
    for run in metrics["test_runs"]:
        counts = run["test_counts"]
        assert counts["total"] == counts["success"] + counts["failure"] + counts["skipped"] + counts["error"]
        status = next(r["status"] for r in latest if r["id"] == run["workflow_id"])
        if counts["failure"]:
            assert status == "failed"
    failed_runs = sum(t["failed_runs"] for t in metrics["most_failed_tests"])
    assert failed_runs == sum(t["test_counts"]["failure"] for t in metrics["test_runs"])
    flaky = {f["test_name"] for f in get_json(api, f"/insights/{SLUG}/flaky-tests")["flaky_tests"]}
    assert all(t["flaky"] == (t["test_name"] in flaky) for t in metrics["most_failed_tests"])
    slow = [t["p95_duration"] for t in metrics["slowest_tests"]]
    assert slow == sorted(slow, reverse=True) and len(slow) == 10


def test_same_arguments_same_answers(api):
    with Simulator(end_date=END_DATE, days=100, seed=7) as twin, api_client(twin) as c:
        for path in (f"/insights/{SLUG}/workflows", f"/insights/{SLUG}/flaky-tests",
                     f"/insights/{SLUG}/workflows/deploy/jobs", f"/insights/{SLUG}/workflows/nightly"):
            assert get_json(c, path) == get_json(api, path), path
