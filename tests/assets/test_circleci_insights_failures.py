"""One failing project must not cost the others their data (Insights, through Dagster).

Project A answers 500 to everything (after retries), project B was deleted (404), project C is
fine: C lands, A is reported by project, request and page and fails the asset at the end, B is
recorded as skipped and fails nothing.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from ciwatch_etl.assets import circleci_api
from ciwatch_etl.assets.circleci_api import circleci_insights
from ciwatch_etl.resources import CircleCIResource, DataFolderResource
from ciwatch_etl.schemas import circleci_insights as insights
from ciwatch_etl.environment import Paths
from ciwatch_etl.simulator.circleci import Simulator

END = date(2025, 7, 8)
RUN_CONFIG = {
    "ops": {
        "circleci_insights": {
            "config": {"history_days": 3, "retry_attempts": 2, "retry_backoff_seconds": 0.01,
                       "reporting_windows": ["last-7-days"]}
        }
    }
}


def landed_projects(home: Path) -> set[str]:
    files = [str(p) for p in insights.WORKFLOW_RUNS.table.directory(Paths(home).lake).glob("*/data.parquet")]
    with duckdb.connect() as con:
        rows = con.execute("select distinct project_slug from read_parquet($1)", [files]).fetchall()
    return {slug for (slug,) in rows}


def test_a_failing_and_a_deleted_project_leave_the_third_landed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    home = tmp_path / "home"
    with Simulator(end_date=END, days=5) as sim:
        monkeypatch.setattr(circleci_api, "utc_now", lambda: sim.now)
        failing, deleted, healthy = sim.project_slugs[:3]
        sim.faults.server_error(times=10_000, status=500, path_contains=failing)
        sim.faults.not_found(times=10_000, path_contains=deleted)
        resources = {
            "circleci": CircleCIResource(
                token=sim.token, api_url=sim.circleci_api_url, project_slugs=f"{failing},{deleted},{healthy}"
            ),
            "data_folder": DataFolderResource(home=str(home)),
        }
        result = dg.materialize([circleci_insights], resources=resources, run_config=RUN_CONFIG, raise_on_error=False)

    assert not result.success
    assert landed_projects(home) == {healthy}

    # every table still reports its load, with the failures by project, request and page
    materialized = {
        m.asset_key.path[-1]: {k: v.value for k, v in m.metadata.items()}
        for m in result.asset_materializations_for_node("circleci_insights")
    }
    assert set(materialized) == {t.name for t in circleci_api.INSIGHTS_TABLES}
    runs = materialized["circleci_insights_workflow_runs"]
    assert runs["rows_landed_new"] > 0
    # A: workflow summary (7 days, one page) and flaky tests; its workflows are unknown, so no more
    assert runs["failed_requests"] == 2
    assert f"| {failing} | GET insights/{failing}/workflows (last-7-days) | 1 | 500 |" in runs["failures"]
    assert f"| {failing} | GET insights/{failing}/flaky-tests |  | 500 |" in runs["failures"]
    assert f"| {deleted} | GET insights/{deleted}/workflows (last-7-days) | 1 | 404 |" in runs["skipped"]
    assert healthy not in runs["failures"] + runs["skipped"]

    # the asset fails at the end, naming the failed project only (a 404 is a skip)
    failure = next(e for e in result.all_events if e.is_step_failure).step_failure_data.error
    assert failing in failure.message and deleted not in failure.message
    assert "gave up after 2 attempts" in failure.message
    assert sim.token not in failure.message


def test_a_project_known_from_the_lake_is_asked_for_its_runs_even_when_its_summary_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    home = tmp_path / "home"
    with Simulator(end_date=END, days=5) as sim:
        monkeypatch.setattr(circleci_api, "utc_now", lambda: sim.now)
        slug = sim.project_slugs[0]
        resources = {
            "circleci": CircleCIResource(token=sim.token, api_url=sim.circleci_api_url, project_slugs=slug),
            "data_folder": DataFolderResource(home=str(home)),
        }
        assert dg.materialize([circleci_insights], resources=resources, run_config=RUN_CONFIG).success
        sim.advance(1)
        sim.faults.server_error(times=2, status=503, path_contains=f"insights/{slug}/workflows")
        sim.requests.clear()
        result = dg.materialize([circleci_insights], resources=resources, run_config=RUN_CONFIG, raise_on_error=False)
        prefix = f"/api/v2/insights/{slug}/workflows/"
        runs_asked = {r.path.removeprefix(prefix) for r in sim.requests
                      if r.status == 200 and r.path.startswith(prefix) and "/" not in r.path.removeprefix(prefix)}

    assert not result.success  # the summary failed for good (503 twice)
    assert runs_asked == {"build-and-test", "deploy", "nightly"}
