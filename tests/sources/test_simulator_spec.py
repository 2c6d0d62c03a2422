"""The CircleCI simulator's JSON endpoints against the official OpenAPI spec, and its objects
against real recorded responses (same keys).

Validation uses the spec's own response schemas ($refs resolved) with OpenAPI 3.0 semantics. The
spec marks nullable fields with Swagger 2's `x-nullable`, which OpenAPI 3.0 ignores, so it is
read as `nullable` (with null added to a nullable enum, as OpenAPI 3.0.3 asks): what CircleCI
means, and what its responses do. Two live deviations are
asserted as such rather than hidden: some last pages leave out `next_page_token`, and flaky
tests come in snake_case.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from openapi_schema_validator import OAS30Validator, oas30_format_checker

from simulator_helpers import api_client, get_json

from ciwatch_etl.simulator.circleci import Simulator

SPEC_FILE = "openapi-final.circleci-docs.2025-10-17.json"
END_DATE = date(2025, 10, 31)
# This project's nightly pipeline fires at about 01:54 UTC: its workflow is running at "now".
RUNNING_SLUG = "gh/acme-robotics/auth-service"
SLUG = "bb/globex-labs/storefront"
FIXTURES = Path("circleci/fixtures")

Errors = list[tuple[list[Any], str]]


# -- the spec ----------------------------------------------------------------------------------


def openapi30(node: Any, spec: dict[str, Any]) -> Any:
    """`node` with every local $ref inlined and `x-nullable: true` read as `nullable: true`."""
    if isinstance(node, list):
        return [openapi30(item, spec) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        return openapi30(target, spec)
    converted = {key: openapi30(value, spec) for key, value in node.items() if key != "x-nullable"}
    if node.get("x-nullable") is True:
        converted["nullable"] = True
        if "enum" in converted:  # OpenAPI 3.0.3: a nullable enum lists null among its values
            converted["enum"] = [*converted["enum"], None]
    return converted


@pytest.fixture(scope="module")
def spec(refs_dir: Path) -> dict[str, Any]:
    return json.loads((refs_dir / "circleci" / SPEC_FILE).read_text())


@pytest.fixture(scope="module")
def errors(spec) -> Callable[[str, dict[str, Any]], Errors]:
    """errors(spec_path, body): where and by which keyword the body breaks the 200 schema."""
    checker = jsonschema.FormatChecker()  # date-time and uuid ...
    checker.checkers.update(oas30_format_checker.checkers)  # ... plus OpenAPI's int64, float, double
    assert {"date-time", "uuid", "int64", "float"} <= set(checker.checkers), "format checks must not be skipped"
    validators: dict[str, OAS30Validator] = {}

    def check(path: str, body: dict[str, Any]) -> Errors:
        if path not in validators:
            schema = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
            validators[path] = OAS30Validator(openapi30(schema, spec), format_checker=checker)
        return sorted((list(e.absolute_path), e.validator) for e in validators[path].iter_errors(body))

    return check


def test_nullable_reading_is_what_makes_null_valid(spec, errors):
    """The x-nullable translation is load-bearing: without it a running workflow breaks the spec."""
    running = {"items": [{"pipeline_id": "ddfe4fff-815c-45aa-ad08-b03e33e1a262",
                          "id": "2762c8e8-00c0-4b97-b094-22fa84334553", "name": "nightly",
                          "project_slug": RUNNING_SLUG, "status": "running",
                          "started_by": "0e03e37b-0c51-5c6b-bd70-4a3b1913a5c7", "pipeline_number": 3,
                          "created_at": "2025-11-01T01:54:28Z", "stopped_at": None}], "next_page_token": None}
    assert errors("/pipeline/{pipeline-id}/workflow", running) == []
    raw = spec["paths"]["/pipeline/{pipeline-id}/workflow"]["get"]["responses"]["200"]["content"]["application/json"]
    plain = OAS30Validator(raw["schema"])
    assert {e.validator for e in plain.iter_errors(running)} == {"type"}
    bad_time = json.loads(json.dumps(running).replace("2025-11-01T01:54:28Z", "2025-11-01 01:54:28"))
    assert errors("/pipeline/{pipeline-id}/workflow", bad_time) == [(["items", 0, "created_at"], "format")]


# -- the simulator -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sim():
    with Simulator(end_date=END_DATE, days=100, seed=7) as simulator:
        yield simulator


@pytest.fixture(scope="module")
def api(sim):
    with api_client(sim) as client:
        yield client


NO_TOKEN_KEY = [([], "required")]  # the documented deviation: a last page without next_page_token


def test_pipeline_endpoints_match_the_spec(api, errors):
    first = get_json(api, f"/project/{RUNNING_SLUG}/pipeline")
    assert errors("/project/{project-slug}/pipeline", first) == []
    assert isinstance(first["next_page_token"], str) and len(first["items"]) == 20
    bot_branch = get_json(api, f"/project/{SLUG}/pipeline", branch="dependabot/pip/requests-2.32.3")
    assert bot_branch["items"] and bot_branch["next_page_token"] is None  # the spec's null last page
    assert errors("/project/{project-slug}/pipeline", bot_branch) == []

    running_pipeline = first["items"][0]
    workflows = get_json(api, f"/pipeline/{running_pipeline['id']}/workflow")
    assert [w["status"] for w in workflows["items"]] == ["running"]
    assert workflows["items"][0]["stopped_at"] is None
    assert errors("/pipeline/{pipeline-id}/workflow", workflows) == NO_TOKEN_KEY

    jobs = get_json(api, f"/workflow/{workflows['items'][0]['id']}/job")
    statuses = {j["status"] for j in jobs["items"]}
    assert "running" in statuses and "success" in statuses
    assert all(("stopped_at" in j) == (j["status"] != "running") for j in jobs["items"])
    assert errors("/workflow/{id}/job", jobs) == NO_TOKEN_KEY

    for job in jobs["items"]:
        details = get_json(api, f"/project/{RUNNING_SLUG}/job/{job['job_number']}")
        assert errors("/project/{project-slug}/job/{job-number}", details) == []
        assert (details["duration"] is None) == (job["status"] == "running")

    # A finished pipeline with a re-run: several workflows, failed and successful jobs.
    page = get_json(api, f"/project/{SLUG}/pipeline", **{"page-token": first["next_page_token"]})
    assert errors("/project/{project-slug}/pipeline", page) == []
    for pipeline in get_json(api, f"/project/{SLUG}/pipeline")["items"][:10]:
        body = get_json(api, f"/pipeline/{pipeline['id']}/workflow")
        assert errors("/pipeline/{pipeline-id}/workflow", body) == NO_TOKEN_KEY
        for workflow in body["items"]:
            assert errors("/workflow/{id}/job", get_json(api, f"/workflow/{workflow['id']}/job")) == NO_TOKEN_KEY


def test_insights_endpoints_match_the_spec(api, errors):
    summary_path = "/insights/{project-slug}/workflows"
    for window in ("last-24-hours", "last-7-days", "last-30-days", "last-60-days", "last-90-days"):
        body = get_json(api, f"/insights/{SLUG}/workflows", **{"reporting-window": window})
        assert body["next_page_token"] is None and errors(summary_path, body) == []
    everything = get_json(api, f"/insights/{SLUG}/workflows", **{"all-branches": "true"})
    assert {i["name"] for i in everything["items"]} == {"build-and-test", "deploy", "nightly"}
    assert errors(summary_path, everything) == []

    runs_path = "/insights/{project-slug}/workflows/{workflow-name}"
    first = get_json(api, f"/insights/{SLUG}/workflows/build-and-test")
    assert len(first["items"]) == 30 and errors(runs_path, first) == []
    running = get_json(api, f"/insights/{RUNNING_SLUG}/workflows/nightly")
    assert running["items"][0]["status"] is None and running["items"][0]["duration"] is None
    assert errors(runs_path, running) == []
    recent = get_json(api, f"/insights/{SLUG}/workflows/nightly", **{"start-date": "2025-10-25T00:00:00Z"})
    assert 0 < len(recent["items"]) < 30 and "next_page_token" not in recent
    assert errors(runs_path, recent) == NO_TOKEN_KEY

    jobs = get_json(api, f"/insights/{SLUG}/workflows/build-and-test/jobs", **{"all-branches": "true"})
    assert len(jobs["items"]) == 5
    assert errors("/insights/{project-slug}/workflows/{workflow-name}/jobs", jobs) == NO_TOKEN_KEY

    series_path = "/insights/time-series/{project-slug}/workflows/{workflow-name}/jobs"
    for granularity in ("daily", "hourly"):
        body = get_json(api, f"/insights/time-series/{RUNNING_SLUG}/workflows/nightly/jobs", granularity=granularity)
        assert body["items"] and body["next_page_token"] is None and errors(series_path, body) == []

    metrics_path = "/insights/{project-slug}/workflows/{workflow-name}/test-metrics"
    with_tests = get_json(api, f"/insights/{SLUG}/workflows/build-and-test/test-metrics")
    assert with_tests["test_runs"] and with_tests["most_failed_tests"] and with_tests["slowest_tests"]
    assert errors(metrics_path, with_tests) == []
    without_tests = get_json(api, f"/insights/{SLUG}/workflows/deploy/test-metrics")
    assert without_tests["total_test_runs"] == 0 and errors(metrics_path, without_tests) == []


def test_flaky_tests_are_snake_case_live_and_kebab_case_in_the_spec(api, errors):
    body = get_json(api, f"/insights/{SLUG}/flaky-tests")
    assert set(body) == {"flaky_tests", "total_flaky_tests"} and body["flaky_tests"]
    path = "/insights/{project-slug}/flaky-tests"
    assert errors(path, body) == [([], "required"), ([], "required")]  # "flaky-tests", "total-flaky-tests"
    kebab = {"flaky-tests": [{k.replace("_", "-"): v for k, v in item.items()} for item in body["flaky_tests"]],
             "total-flaky-tests": body["total_flaky_tests"]}
    assert errors(path, kebab) == [], "apart from the spelling, the live shape is the spec's"


# -- shapes of real recorded responses ----------------------------------------------------------


def recorded(refs_dir: Path, name: str) -> list[dict[str, Any]]:
    rows = json.loads((refs_dir / FIXTURES / "devlake-circleci-e2e/extracted" / name).read_text())
    return [row["data"] for row in rows]


def test_objects_have_the_keys_of_recorded_responses(api, refs_dir):
    demisto = refs_dir / FIXTURES / "demisto-content"
    insights = json.loads((demisto / "readme_insights_examples.json").read_text())
    demisto_pipelines = json.loads((demisto / "circle_ci_commands_test_data.json").read_text())[
        "get_pipelines_list"]["raw_response"]["items"]
    real_pipelines = [p for p in recorded(refs_dir, "_raw_circleci_api_pipelines.json") if "vcs" in p]
    real_workflows = recorded(refs_dir, "_raw_circleci_api_workflows.json")
    real_jobs = recorded(refs_dir, "_raw_circleci_api_jobs.json")

    main = get_json(api, f"/project/{SLUG}/pipeline", branch="main")
    pages = [get_json(api, f"/project/{SLUG}/pipeline"), main,
             get_json(api, f"/project/{SLUG}/pipeline", branch="main", **{"page-token": main["next_page_token"]})]
    pipelines = [p for page in pages for p in page["items"]]
    by_trigger = {p["trigger"]["type"]: p for p in pipelines}
    assert {"webhook", "api", "scheduled_pipeline"} <= set(by_trigger)
    pipeline_keys = {frozenset(p) for p in real_pipelines + demisto_pipelines}
    assert {frozenset(p) for p in pipelines} == pipeline_keys
    real_vcs = {frozenset(p["vcs"]) for p in real_pipelines + demisto_pipelines}
    ours_vcs = {frozenset(p["vcs"]) for p in pipelines}
    assert ours_vcs == real_vcs, "main with commit, API-triggered without it, pull requests with review_*"
    assert {frozenset(p["trigger"]) for p in pipelines} == {frozenset(p["trigger"]) for p in real_pipelines}
    assert {frozenset(p["trigger"]["actor"]) for p in pipelines} == {frozenset({"login", "avatar_url"})}

    workflows = [w for p in pipelines[5:15] for w in get_json(api, f"/pipeline/{p['id']}/workflow")["items"]]
    assert {frozenset(w) for w in workflows} == {frozenset(w) for w in real_workflows}
    jobs = [j for w in workflows for j in get_json(api, f"/workflow/{w['id']}/job")["items"]]
    assert {frozenset(j) for j in jobs} == {frozenset(j) for j in real_jobs}
    # demisto's README shows job items without created_at, which every recorded API item has.
    assert {frozenset(set(j) | {"created_at"}) for j in insights["workflow_jobs_items"]} == {frozenset(real_jobs[0])}

    summary = get_json(api, f"/insights/{SLUG}/workflows")["items"][0]
    real_summary = insights["insights_workflows_items"][0]
    assert set(summary) == set(real_summary)
    assert set(summary["metrics"]) == set(real_summary["metrics"])
    assert set(summary["metrics"]["duration_metrics"]) == set(real_summary["metrics"]["duration_metrics"])
    run = get_json(api, f"/insights/{SLUG}/workflows/nightly")["items"][0]
    # The README's context output of runs is "a subset of fields": all but is_approval.
    assert set(run) - set(insights["insights_workflow_runs_items"][0]) == {"is_approval"}
    assert set(insights["insights_workflow_runs_items"][0]) <= set(run)


def test_the_project_endpoint_matches_the_spec_and_the_recorded_project(api, errors, refs_dir):
    body = get_json(api, "/project/bitbucket/globex-labs/ml-ranking")  # the long form: answered with the short slug
    assert errors("/project/{project-slug}", body) == []
    assert (body["slug"], body["name"], body["organization_slug"]) == (
        "bb/globex-labs/ml-ranking", "ml-ranking", "bb/globex-labs")
    assert body["vcs_info"]["default_branch"] == "master" and body["vcs_info"]["provider"] == "Bitbucket"
    assert get_json(api, f"/project/{SLUG}")["vcs_info"]["default_branch"] == "main"
    real = recorded(refs_dir, "_raw_circleci_api_projects.json")[0]
    assert set(body) == set(real) and set(body["vcs_info"]) == set(real["vcs_info"])
    unknown = api.get("/project/gh/globex-labs/no-such-repo")
    assert (unknown.status_code, unknown.json()) == (404, {"message": "Project not found"})
