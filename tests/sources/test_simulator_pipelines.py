"""The CircleCI simulator's pipeline history over real HTTP: paging back to the first day, the
same workflows and jobs as the usage export, running work at "now", advance(), lookups, 404s and
per-path faults."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from simulator_helpers import api_client, get_json

from ciwatch_etl.simulator.circleci import Simulator

END_DATE = date(2025, 10, 31)
SLUG = "gh/acme-robotics/api-gateway"
OTHER_SLUG = "bb/globex-labs/checkout-api"
RUNNING_SLUG = "gh/acme-robotics/auth-service"  # nightly at about 01:54 UTC: running at 02:00


@pytest.fixture(scope="module")
def sim():
    with Simulator(end_date=END_DATE, days=60, seed=7) as simulator:
        yield simulator


@pytest.fixture(autouse=True)
def no_leftover_faults(request):
    yield
    if "sim" in request.fixturenames:
        request.getfixturevalue("sim").faults.clear()


@pytest.fixture(scope="module")
def api(sim):
    with api_client(sim) as c:
        yield c


def walk(api: httpx.Client, path: str, **params: str) -> tuple[list[dict[str, Any]], int]:
    """Every item of every page, and how many pages it took."""
    items, pages, token = [], 0, None
    while True:
        body = get_json(api, path, **params, **({"page-token": token} if token else {}))
        items += body["items"]
        pages += 1
        token = body.get("next_page_token")
        if token is None:
            return items, pages


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text)


# -- pipelines ---------------------------------------------------------------------------------


def test_pipelines_page_newest_first_back_to_the_first_day(sim, api):
    items, pages = walk(api, f"/project/{SLUG}/pipeline")
    numbers = [p["number"] for p in items]
    assert len(set(numbers)) == len(numbers), "no pipeline twice"
    assert numbers == sorted(numbers, reverse=True), "newest first"
    assert pages == -(-len(items) // 20), "20 a page"
    project = sim.timeline.project(SLUG)
    expected = [p for d in sim.timeline.days_newest_first() for p in sim.timeline.pipelines_on(project, d)]
    assert sorted(numbers) == sorted(p.number for p in expected)
    assert utc(items[-1]["created_at"]).date() == sim.first_date
    assert utc(items[0]["created_at"]) <= sim.now < utc(items[0]["created_at"]) + timedelta(days=1)
    assert numbers == list(range(numbers[0], numbers[-1] - 1, -1)), "numbers run on without gaps"

    main, _ = walk(api, f"/project/{SLUG}/pipeline", branch="main")
    assert main and {p["vcs"]["branch"] for p in main} == {"main"}
    assert [p["number"] for p in main] == [p["number"] for p in items if p["vcs"]["branch"] == "main"]
    assert walk(api, f"/project/{SLUG}/pipeline", branch="no-such-branch") == ([], 1)


def test_page_token_continues_exactly_after_new_runs_arrive():
    with Simulator(end_date=END_DATE, days=10, seed=7) as small, api_client(small) as c:
        first = get_json(c, f"/project/{SLUG}/pipeline")
        small.advance(1)  # a night passes between two pages: a day of newer pipelines appears
        second = get_json(c, f"/project/{SLUG}/pipeline", **{"page-token": first["next_page_token"]})
        assert second["items"][0]["number"] == first["items"][-1]["number"] - 1
        newest = get_json(c, f"/project/{SLUG}/pipeline")["items"][0]
        assert newest["number"] > first["items"][0]["number"]


def test_invalid_page_tokens_are_refused(api):
    for token in ("not-a-token", "WyJub3QtYS1kYXkiXQ", "e30"):
        response = api.get(f"/project/{SLUG}/pipeline", params={"page-token": token})
        assert response.status_code == 400 and response.json() == {"message": "Invalid page-token."}, token
    assert get_json(api, f"/project/{SLUG}/pipeline", **{"page-token": ""})["items"], "an empty token is the first page"


# -- workflows and jobs agree with the usage export --------------------------------------------


def test_workflows_and_jobs_are_those_of_the_usage_export(sim, api):
    org_id = sim.org_ids[0]
    day = END_DATE - timedelta(days=3)
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    rows = sim.expected_usage_rows(org_id, start - timedelta(days=1), start + timedelta(days=2))
    by_job = {r["JOB_ID"]: r for r in rows}

    pipelines = [p for p in walk(api, f"/project/{SLUG}/pipeline")[0] if utc(p["created_at"]).date() == day]
    assert pipelines
    seen_jobs, statuses = 0, Counter()
    for pipeline in pipelines:
        workflows = get_json(api, f"/pipeline/{pipeline['id']}/workflow")["items"]
        for workflow in workflows:
            jobs = get_json(api, f"/workflow/{workflow['id']}/job")["items"]
            assert jobs, "every workflow ran a job"
            statuses[workflow["status"]] += 1
            for job in jobs:
                row = by_job[job["id"]]
                assert (row["PIPELINE_ID"], row["PIPELINE_NUMBER"]) == (pipeline["id"], pipeline["number"])
                assert (row["WORKFLOW_ID"], row["WORKFLOW_NAME"]) == (workflow["id"], workflow["name"])
                assert row["IS_WORKFLOW_SUCCESSFUL"] == (workflow["status"] == "success")
                stopped = utc(workflow["stopped_at"]).replace(tzinfo=None)  # whole seconds in this list
                assert row["WORKFLOW_STOPPED_AT"].replace(microsecond=0) == stopped
                assert (row["JOB_NAME"], row["JOB_RUN_NUMBER"], row["JOB_BUILD_STATUS"]) == (
                    job["name"], job["job_number"], job["status"])
                assert row["JOB_RUN_STARTED_AT"].replace(microsecond=0) == utc(job["started_at"]).replace(tzinfo=None)
                assert set(job["dependencies"]) <= {j["id"] for j in jobs}
                seen_jobs += 1
    assert seen_jobs == sum(1 for r in rows if r["PIPELINE_ID"] in {p["id"] for p in pipelines})
    assert statuses["success"] and statuses["failed"]

    failed_job = next(r for r in rows if r["JOB_BUILD_STATUS"] == "failed" and r["PROJECT_NAME"] == "api-gateway")
    details = get_json(api, f"/project/{SLUG}/job/{failed_job['JOB_RUN_NUMBER']}")
    assert details["status"] == "failed" and details["name"] == failed_job["JOB_NAME"]
    assert abs(details["duration"] - failed_job["JOB_RUN_SECONDS"] * 1000) <= 500, "milliseconds"
    assert details["executor"] == {"resource_class": failed_job["RESOURCE_CLASS"], "type": failed_job["EXECUTOR"]}
    assert details["parallelism"] == failed_job["PARALLELISM"] == len(details["parallel_runs"])
    assert details["latest_workflow"]["id"] == failed_job["WORKFLOW_ID"]
    assert details["pipeline"]["id"] == failed_job["PIPELINE_ID"]
    assert details["project"]["id"] == failed_job["PROJECT_ID"]


def test_dependencies_follow_the_stages(sim, api):
    pipeline = next(p for p in get_json(api, f"/project/{SLUG}/pipeline", branch="main")["items"][3:]
                    if p["trigger"]["type"] != "scheduled_pipeline")
    workflows = {w["name"]: w for w in get_json(api, f"/pipeline/{pipeline['id']}/workflow")["items"]}
    jobs = {j["name"]: j for j in get_json(api, f"/workflow/{workflows['deploy']['id']}/job")["items"]}
    assert jobs["build-image"]["dependencies"] == []
    if "deploy-staging" in jobs:
        assert jobs["deploy-staging"]["dependencies"] == [jobs["build-image"]["id"]]


# -- "now", running work and advance() ---------------------------------------------------------


def test_running_work_at_now_finishes_after_advance():
    with Simulator(end_date=END_DATE, days=10, seed=7) as small, api_client(small) as c:
        assert small.now == datetime(2025, 11, 1, 2, 0, tzinfo=UTC)
        newest = get_json(c, f"/project/{RUNNING_SLUG}/pipeline")["items"][0]
        assert utc(newest["created_at"]).date() == date(2025, 11, 1), "this morning's pipelines are visible"
        workflow = get_json(c, f"/pipeline/{newest['id']}/workflow")["items"][0]
        assert (workflow["status"], workflow["stopped_at"]) == ("running", None)
        jobs = get_json(c, f"/workflow/{workflow['id']}/job")["items"]
        running = next(j for j in jobs if j["status"] == "running")
        assert "stopped_at" not in running
        details = get_json(c, f"/project/{RUNNING_SLUG}/job/{running['job_number']}")
        assert (details["status"], details["duration"], details["stopped_at"]) == ("running", None, None)
        assert small.expected_usage_rows(small.org_ids[0], small.now - timedelta(hours=2), small.now) == [], \
            "the usage export stops at end_date"

        small.advance(1)
        assert (small.end_date, small.now) == (date(2025, 11, 1), datetime(2025, 11, 2, 2, 0, tzinfo=UTC))
        finished = get_json(c, f"/pipeline/{newest['id']}/workflow")["items"][0]
        assert finished["id"] == workflow["id"] and finished["status"] in {"success", "failed"}
        assert utc(finished["stopped_at"]) < small.now
        job = next(j for j in get_json(c, f"/workflow/{workflow['id']}/job")["items"] if j["id"] == running["id"])
        assert job["status"] in {"success", "failed", "infrastructure_fail"} and "stopped_at" in job
        details = get_json(c, f"/project/{RUNNING_SLUG}/job/{running['job_number']}")
        assert isinstance(details["duration"], int) and details["stopped_at"] is not None
        started = utc(running["started_at"])  # whole seconds in this list
        rows = small.expected_usage_rows(small.org_ids[0], started, started + timedelta(seconds=1))
        assert running["id"] in {r["JOB_ID"] for r in rows}, "yesterday's run is in the usage export now"


def test_advance_builds_the_world_a_fresh_simulator_would():
    start = datetime(2025, 10, 30, tzinfo=UTC)
    end = datetime(2025, 11, 3, tzinfo=UTC)
    advanced = Simulator(end_date=END_DATE, days=20, seed=7)
    advanced.advance(2)
    fresh = Simulator(end_date=END_DATE + timedelta(days=2), days=22, seed=7)
    assert (advanced.first_date, advanced.end_date, advanced.now) == (fresh.first_date, fresh.end_date, fresh.now)
    for org_id in fresh.org_ids:
        assert advanced.expected_usage_rows(org_id, start, end) == fresh.expected_usage_rows(org_id, start, end)
    with pytest.raises(ValueError):
        advanced.advance(0)


# -- lookups and errors ------------------------------------------------------------------------


def test_slugs_and_their_spellings(sim, api):
    assert len(sim.project_slugs) == 16 and SLUG in sim.project_slugs and OTHER_SLUG in sim.project_slugs
    plain = get_json(api, f"/project/{SLUG}/pipeline")
    assert get_json(api, "/project/github/acme-robotics/api-gateway/pipeline") == plain
    assert get_json(api, "/project/gh%2Facme-robotics%2Fapi-gateway/pipeline") == plain
    assert get_json(api, "/project/bitbucket/globex-labs/checkout-api/pipeline")["items"][0]["project_slug"] == OTHER_SLUG


def test_unknown_projects_pipelines_workflows_and_jobs_are_404(sim, api):
    unknown = "00000000-0000-4000-8000-000000000000"
    cases = {
        "/project/gh/acme-robotics/no-such-project/pipeline": "Project not found",
        "/project/gl/acme-robotics/api-gateway/pipeline": "Project not found",
        "/project/gh/acme-robotics/no-such-project/job/1": "Project not found",
        f"/project/{SLUG}/job/1": "Job not found",
        f"/project/{SLUG}/job/abc": "Job not found",
        f"/pipeline/{unknown}/workflow": "Pipeline not found",
        f"/workflow/{unknown}/job": "Workflow not found",
    }
    for path, text in cases.items():
        response = api.get(path)
        assert response.status_code == 404 and response.json() == {"message": text}, path
    assert httpx.get(f"{sim.circleci_api_url}/project/{SLUG}/pipeline").status_code == 401


# -- faults aimed at one path -------------------------------------------------------------------


def test_faults_aimed_at_a_path_hit_only_that_project(sim, api):
    sim.faults.server_error(times=99, status=500, path_contains=SLUG)
    sim.faults.not_found(times=99, path_contains=OTHER_SLUG)
    assert api.get(f"/project/{SLUG}/pipeline").status_code == 500
    assert api.get(f"/insights/{SLUG}/workflows").status_code == 500
    assert api.get("/project/gh%2Facme-robotics%2Fapi-gateway/pipeline").status_code == 500, "decoded path"
    missing = api.get(f"/project/{OTHER_SLUG}/pipeline")
    assert missing.status_code == 404 and missing.json() == {"message": "Project not found"}
    assert api.get(f"/project/{RUNNING_SLUG}/pipeline").status_code == 200
    assert sim.faults.pending() == {f"ServerError[{SLUG}]": 96, f"NotFound[{OTHER_SLUG}]": 98}

    sim.faults.server_error(times=1, status=503)  # unaimed, as before: the next request, wherever
    assert api.get(f"/project/{RUNNING_SLUG}/pipeline").status_code == 503
    assert api.get(f"/project/{RUNNING_SLUG}/pipeline").status_code == 200
    sim.faults.clear()
    assert api.get(f"/project/{SLUG}/pipeline").status_code == 200
    with pytest.raises(ValueError):
        sim.faults.not_found(path_contains="")
