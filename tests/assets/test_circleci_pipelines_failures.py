"""One failing project or pipeline must not cost the others their data (pipelines, through Dagster).

A 500 after retries fails the asset at the end, naming the project, request and page; a 404 (a
deleted project or pipeline) is recorded as skipped and fails nothing.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from ciwatch_etl.assets import circleci_api
from ciwatch_etl.assets.circleci_api import circleci_pipeline_history
from ciwatch_etl.resources import CircleCIResource, DataFolderResource
from ciwatch_etl.schemas.circleci_pipelines import PIPELINES, WORKFLOWS
from ciwatch_etl.environment import Paths
from ciwatch_etl.simulator.circleci import Simulator

END = date(2025, 7, 8)
RUN_CONFIG = {
    "ops": {
        "circleci_pipeline_history": {
            "config": {"history_days": 1, "lookback_days": 1, "job_details": False, "retry_attempts": 2,
                       "retry_backoff_seconds": 0.01}
        }
    }
}


def pull(sim: Simulator, home: Path, slugs: list[str]) -> dg.ExecuteInProcessResult:
    resources = {
        "circleci": CircleCIResource(token=sim.token, api_url=sim.circleci_api_url, project_slugs=",".join(slugs)),
        "data_folder": DataFolderResource(home=str(home)),
    }
    return dg.materialize([circleci_pipeline_history], resources=resources, run_config=RUN_CONFIG, raise_on_error=False)


def metadata(result: dg.ExecuteInProcessResult) -> dict[str, dict]:
    return {
        m.asset_key.path[-1]: {k: v.value for k, v in m.metadata.items()}
        for m in result.asset_materializations_for_node("circleci_pipeline_history")
    }


def distinct(home: Path, column: str, table=PIPELINES) -> set:
    files = [str(p) for p in table.table.directory(Paths(home).lake).glob("*/data.parquet")]
    with duckdb.connect() as con:
        return {v for (v,) in con.execute(f"select distinct {column} from read_parquet($1)", [files]).fetchall()}


def test_failing_and_deleted_projects_leave_the_third_landed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    home = tmp_path / "home"
    with Simulator(end_date=END, days=3) as sim:
        monkeypatch.setattr(circleci_api, "utc_now", lambda: sim.now)
        failing, deleted, healthy = sim.project_slugs[:3]
        sim.faults.server_error(times=10_000, status=500, path_contains=failing)
        sim.faults.not_found(times=10_000, path_contains=deleted)
        result = pull(sim, home, [failing, deleted, healthy])

    assert not result.success
    assert distinct(home, "project_slug") == distinct(home, "project_slug", WORKFLOWS) == {healthy}
    meta = metadata(result)
    assert set(meta) == {"circleci_pipelines", "circleci_workflows", "circleci_jobs"}
    assert all(m["rows_landed_new"] > 0 and m["failed_requests"] == 1 and m["skipped_requests"] == 1
               for m in meta.values())
    table = meta["circleci_jobs"]
    assert f"| {failing} | GET project/{failing}/pipeline | 1 | 500 |" in table["failures"]
    assert f"| {deleted} | GET project/{deleted}/pipeline | 1 | 404 |" in table["skipped"]
    message = next(e for e in result.all_events if e.is_step_failure).step_failure_data.error.message
    assert f"{failing}: GET project/{failing}/pipeline page 1: GET http" in message
    assert deleted not in message and healthy not in message


def test_a_deleted_pipeline_is_skipped_and_fails_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    home = tmp_path / "home"
    slug = "gh/acme-robotics/auth-service"  # its nightly is still running at 02:00
    with Simulator(end_date=END, days=3) as sim:
        monkeypatch.setattr(circleci_api, "utc_now", lambda: sim.now)
        assert pull(sim, home, [slug]).success
        files = [str(p) for p in WORKFLOWS.table.directory(Paths(home).lake).glob("*/data.parquet")]
        with duckdb.connect() as con:
            (pipeline_id,) = con.execute(
                "select pipeline_id from read_parquet($1) where status in ('running', 'failing')", [files]
            ).fetchone()
        sim.advance(3)  # beyond the lookback: only the unfinished list brings the pipeline back
        sim.faults.not_found(times=10, path_contains=f"pipeline/{pipeline_id}/workflow")
        result = pull(sim, home, [slug])

    assert result.success
    skipped = metadata(result)["circleci_workflows"]["skipped"]
    assert f"| {slug} | GET pipeline/{pipeline_id}/workflow | 1 | 404 |" in skipped
