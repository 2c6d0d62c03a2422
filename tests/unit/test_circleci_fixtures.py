"""Every recorded real CircleCI response in refs/ parses without loss into our raw tables.

"Without loss": every leaf of every item lands in a column, or is in an explicit ignored set
checked here; no value fails to parse; every row passes its table's schema. The official spec's
own response schemas are checked the same way (an instance with every property), which covers
the endpoints no one has recorded (flaky tests in both spellings, test metrics, job details).
"""

from __future__ import annotations

import csv
import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from ciwatch_etl.schemas import circleci_insights as insights
from ciwatch_etl.schemas.circleci_pipelines import JOB_DETAILS_IGNORED, JOBS, PIPELINES, WORKFLOWS
from ciwatch_etl.schemas.json_table import JsonTable, leaf_paths, uncovered_paths
from ciwatch_etl.schemas.validation import split_by_schema
from ciwatch_etl.schemas.circleci_insights import rows_of_test_metrics
from ciwatch_etl.sources.circleci.insights import TEST_METRICS_LISTS, snake_keys

FIXTURES = "circleci/fixtures"
JOB_CONTEXT = {"workflow_id": "wf", "pipeline_id": "p", "workflow_created_date": date(2023, 3, 25)}

# DevLake raw tables: which of our tables each endpoint feeds. Projects and users are endpoints
# we do not call (slugs come from settings or the usage export).
DEVLAKE = {
    "_raw_circleci_api_pipelines.csv": (PIPELINES, {}),
    "_raw_circleci_api_workflows.csv": (WORKFLOWS, {}),
    "_raw_circleci_api_workflows_incremental.csv": (WORKFLOWS, {}),
    "_raw_circleci_api_jobs.csv": (JOBS, JOB_CONTEXT),
    "_raw_circleci_api_jobs_incremental.csv": (JOBS, JOB_CONTEXT),
}
DEVLAKE_NOT_OURS = {"_raw_circleci_api_projects.csv", "_raw_circleci_api_users.csv"}
# faros test files shaped as API responses; tests_input.json is GET /project/{slug}/{job}/tests,
# an endpoint we do not call. The others are faros' own output, not CircleCI's.
FAROS = {
    "pipeline_input.json": (PIPELINES, {}),
    "pipelines_input.json": (PIPELINES, {}),
    "workflows_input.json": (WORKFLOWS, {}),
    "jobs_input.json": (JOBS, JOB_CONTEXT),
}


def assert_lands_whole(table: JsonTable, items: list[dict[str, Any]], context: dict[str, Any],
                       ignored: frozenset[str] = frozenset()) -> Any:
    assert items
    for item in items:
        assert uncovered_paths(item, table, ignored) == set(), item
    frame = table.frame(items, context)
    assert frame.get_column("_parse_errors").null_count() == frame.height, frame.get_column("_parse_errors").to_list()
    checked = split_by_schema(table.schema, frame)
    assert checked.rejected.height == 0, checked.rejected.to_dicts()
    return frame


def devlake_items(refs_dir: Path, name: str) -> list[dict[str, Any]]:
    with (refs_dir / FIXTURES / "devlake-circleci-e2e/raw_tables" / name).open(newline="") as f:
        return [json.loads(row["data"]) for row in csv.DictReader(f)]


def test_every_devlake_raw_table_is_accounted_for(refs_dir: Path):
    names = {p.name for p in (refs_dir / FIXTURES / "devlake-circleci-e2e/raw_tables").glob("*.csv")}
    assert names == set(DEVLAKE) | DEVLAKE_NOT_OURS


# A recorded workflow whose times are all "" (pipeline 16): it cannot be given a day partition,
# so it is quarantined with the reason, never dropped.
TIMELESS_WORKFLOW = "b3b77371-e27a-4e93-a554-c728f757cd24"


@pytest.mark.parametrize("name", sorted(DEVLAKE))
def test_devlake_recorded_items_land_whole(refs_dir: Path, name: str):
    table, context = DEVLAKE[name]
    items = devlake_items(refs_dir, name)
    timeless = [i for i in items if i["id"] == TIMELESS_WORKFLOW]
    assert_lands_whole(table, [i for i in items if i["id"] != TIMELESS_WORKFLOW], context)
    if timeless:
        checked = split_by_schema(table.schema, table.frame(timeless, context))
        assert checked.valid.height == 0
        assert checked.rejected.get_column("_reason").to_list() == [
            "created_at: not_nullable (got null); created_date: not_nullable (got null)"
        ]


def test_devlake_errored_pipeline_keeps_its_oddities(refs_dir: Path):
    frame = PIPELINES.frame(devlake_items(refs_dir, "_raw_circleci_api_pipelines.csv"))
    errored = frame.filter(frame["state"] == "errored").to_dicts()
    assert len(errored) == 1
    row = errored[0]
    assert row["trigger_type"] == "Decoupled Ingestion System"
    assert row["trigger_received_at"] == datetime(1970, 1, 1)
    assert row["branch"] is None and row["revision"] is None
    assert json.loads(row["errors_json"]) == [{"message": "Failed to fetch config.yml file.", "type": "config-fetch"}]
    assert json.loads(row["trigger_parameters_json"])["git"]["checkout_sha"].startswith("6ba0cdaf")
    assert row["created_at"] == datetime(2023, 3, 25, 18, 13, 43, 446000)
    assert row["created_date"] == date(2023, 3, 25)


def test_demisto_pipelines_page_lands_whole(refs_dir: Path):
    doc = json.loads((refs_dir / FIXTURES / "demisto-content/circle_ci_commands_test_data.json").read_text())
    frame = assert_lands_whole(PIPELINES, doc["get_pipelines_list"]["raw_response"]["items"], {})
    first = frame.row(0, named=True)
    assert (first["pipeline_number"], first["review_id"], first["commit_subject"]) == (
        97132, "12976", "Subject Commit Message 1"
    )
    assert first["trigger_actor_avatar_url"] is None


def test_demisto_insights_examples_land_whole(refs_dir: Path):
    doc = json.loads((refs_dir / FIXTURES / "demisto-content/readme_insights_examples.json").read_text())
    metrics = assert_lands_whole(
        insights.WORKFLOW_METRICS, doc["insights_workflows_items"],
        {"project_slug": "gh/demisto/content", "snapshot_date": date(2021, 6, 29), "reporting_window": "last-90-days"},
    )
    bucket = metrics.row(0, named=True)
    checked = ("workflow_name", "total_runs", "mttr_seconds", "median_credits_used", "duration_total_seconds",
               "total_credits_used")
    assert tuple(bucket[c] for c in checked) == ("bucket_upload", 181, 93519, 0, 0, 323000)
    runs = assert_lands_whole(
        insights.WORKFLOW_RUNS, doc["insights_workflow_runs_items"],
        {"project_slug": "gh/demisto/content", "workflow_name": "nightly"},
    )
    assert runs.select("duration_seconds", "credits_used").row(0) == (7743, 2482)
    assert runs.get_column("created_date").to_list() == [date(2021, 6, 29), date(2021, 6, 28)]
    assert_lands_whole(JOBS, doc["workflow_jobs_items"], JOB_CONTEXT)


@pytest.mark.parametrize("name", sorted(FAROS))
def test_faros_api_shaped_inputs_land_whole(refs_dir: Path, name: str):
    table, context = FAROS[name]
    items = json.loads((refs_dir / FIXTURES / "faros-airbyte-connectors/source-test_files" / name).read_text())
    frame = assert_lands_whole(table, items, context)
    if "pipeline_number" in frame.columns and name == "workflows_input.json":
        assert frame.get_column("pipeline_number").to_list() == [25]  # given as the string "25"


# -- the official spec: an instance with every property of each response ------------------------


@pytest.fixture(scope="module")
def spec(refs_dir: Path) -> dict[str, Any]:
    return json.loads((refs_dir / "circleci/openapi-final.circleci-docs.2025-10-17.json").read_text())


def instance(spec: dict[str, Any], schema: dict[str, Any], name: str = "") -> Any:
    """A value with every property the schema declares; example values where the spec gives one."""
    if "$ref" in schema:
        target: Any = spec
        for part in schema["$ref"].lstrip("#/").split("/"):
            target = target[part]
        return instance(spec, target, name)
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            merged.update(part)
        return instance(spec, merged, name)
    if "properties" in schema:
        return {k: instance(spec, v, k) for k, v in schema["properties"].items()}
    kind = schema.get("type")
    if kind == "array":
        return [instance(spec, schema.get("items", {}), name)]
    if kind == "object":
        return {"any": "value"}
    if "example" in schema and not isinstance(schema["example"], (dict, list)):
        return schema["example"]
    # `workflow-created-at` is a plain string in the spec, a date-time in practice.
    if kind == "string" and (schema.get("format") == "date-time" or name.endswith(("_at", "-at"))):
        return "2025-07-01T10:11:12.345Z"
    return {"integer": 7, "number": 1.5, "boolean": True}.get(kind, "some-text")


def response(spec: dict[str, Any], path: str) -> Any:
    content = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
    return instance(spec, content["schema"])


LISTINGS = {
    "/insights/{project-slug}/workflows": (insights.WORKFLOW_METRICS, frozenset()),
    "/insights/{project-slug}/workflows/{workflow-name}": (insights.WORKFLOW_RUNS, frozenset()),
    "/insights/{project-slug}/workflows/{workflow-name}/jobs": (insights.JOB_METRICS, frozenset()),
    "/insights/time-series/{project-slug}/workflows/{workflow-name}/jobs": (insights.JOB_TIMESERIES, frozenset()),
    "/project/{project-slug}/pipeline": (PIPELINES, frozenset()),
    "/pipeline/{pipeline-id}/workflow": (WORKFLOWS, frozenset()),
    "/workflow/{id}/job": (JOBS, frozenset()),
}
CONTEXT = {
    "project_slug": "gh/acme/api", "workflow_name": "build", "snapshot_date": date(2025, 7, 1),
    "reporting_window": "last-30-days", "granularity": "daily", **JOB_CONTEXT,
}


@pytest.mark.parametrize("path", sorted(LISTINGS))
def test_spec_listing_items_land_whole(spec: dict[str, Any], path: str):
    table, ignored = LISTINGS[path]
    body = response(spec, path)
    assert set(body) == {"items", "next_page_token"}
    assert_lands_whole(table, body["items"], CONTEXT, ignored)


def test_spec_job_details_land_whole_beside_the_job_list_item(spec: dict[str, Any]):
    item = response(spec, "/workflow/{id}/job")["items"][0]
    details = response(spec, "/project/{project-slug}/job/{job-number}")
    frame = assert_lands_whole(JOBS, [{**item, "details": details}], JOB_CONTEXT, JOB_DETAILS_IGNORED)
    row = frame.row(0, named=True)
    assert row["duration_ms"] == 7 and row["duration_seconds"] == pytest.approx(0.007)
    assert JOB_DETAILS_IGNORED <= {f"details.{p}" for p in leaf_paths(details)}


def test_spec_kebab_case_and_live_snake_case_flaky_tests_land_alike(spec: dict[str, Any]):
    kebab = response(spec, "/insights/{project-slug}/flaky-tests")
    assert "flaky-tests" in kebab and "times-flaked" in kebab["flaky-tests"][0]
    # The live spelling, as CircleCI's own MCP server reads it (src/clients/schemas.ts).
    live = {
        "flaky_tests": [{
            "test_name": "test_login", "classname": "tests.auth", "file": "tests/test_auth.py", "source": "pytest",
            "job_name": "unit-tests", "job_number": 812, "workflow_id": "9b3f0c1e-1111-4c7e-8b5a-2f7d6a1c0e11",
            "workflow_name": "build-and-test", "workflow_created_at": "2025-07-01T10:11:12.345Z",
            "pipeline_number": 405, "times_flaked": 3, "time_wasted": 95,
        }],
        "total_flaky_tests": 1,
    }
    frames = []
    for body in (kebab, live):
        normalised = snake_keys(body)
        assert set(normalised) == {"flaky_tests", "total_flaky_tests"}
        context = {"project_slug": "gh/acme/api", "snapshot_date": date(2025, 7, 1),
                   "total_flaky_tests": normalised["total_flaky_tests"]}
        frames.append(assert_lands_whole(insights.FLAKY_TESTS, normalised["flaky_tests"], context))
    assert frames[0].columns == frames[1].columns
    live_row = frames[1].row(0, named=True)
    assert (live_row["times_flaked"], live_row["time_wasted"], live_row["total_flaky_tests"]) == (3, 95, 1.0)
    assert live_row["workflow_created_at"] == datetime(2025, 7, 1, 10, 11, 12, 345000)
    assert len(live_row["flaky_test_id"]) == 20


def test_spec_test_metrics_land_whole_but_per_run_counts(spec: dict[str, Any]):
    body = response(spec, "/insights/{project-slug}/workflows/{workflow-name}/test-metrics")
    lists = set(TEST_METRICS_LISTS)
    assert set(body) == lists | set(insights.TEST_METRICS_SUMMARY_FIELDS) | insights.TEST_METRICS_IGNORED
    for key in lists:
        assert_lands_whole(insights.TEST_METRICS, body[key], {**CONTEXT, "test_list": "x", "list_position": 1})
    frame = rows_of_test_metrics(body, "gh/acme/api", "build", date(2025, 7, 1))
    assert sorted(frame.get_column("test_list").to_list()) == ["most_failed", "slowest"]
    assert frame.get_column("average_test_count").to_list() == [7, 7]
    assert split_by_schema(insights.TEST_METRICS.schema, frame).rejected.height == 0
