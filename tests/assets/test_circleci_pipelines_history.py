"""Pipelines, workflows and jobs through Dagster against the simulator: incremental pulls.

The first pull pages pipelines only until they get older than the history asked for; a workflow
still running at 02:00 is fetched again the next night until it finishes, while finished
workflows whose jobs are in the lake are never fetched again; a workflow whose job details
failed lands without jobs and is fetched again.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from ciwatch_etl.assets import circleci_api
from ciwatch_etl.assets.circleci_api import circleci_pipeline_history
from ciwatch_etl.resources import CircleCIResource, DataFolderResource
from ciwatch_etl.environment import Paths
from ciwatch_etl.simulator.circleci import Simulator

END = date(2025, 7, 8)  # fixed: the nightly of this project is still running at 02:00 the next day
SLUG = "gh/acme-robotics/auth-service"
RUN_CONFIG = {
    "ops": {
        "circleci_pipeline_history": {
            "config": {"history_days": 2, "lookback_days": 1, "retry_attempts": 2, "retry_backoff_seconds": 0.01}
        }
    }
}


def query(home: Path, sql: str) -> list[tuple]:
    lake = Paths(home).lake / "circleci"
    with duckdb.connect() as con:
        for name in ("pipelines", "workflows", "jobs"):
            files = [str(p) for p in (lake / name).glob("*/data.parquet")]
            con.execute(f"create view {name} as select * from read_parquet({files!r}, hive_partitioning = false)")
        return con.execute(sql).fetchall()


def pull(sim: Simulator, home: Path) -> dg.ExecuteInProcessResult:
    resources = {
        "circleci": CircleCIResource(token=sim.token, api_url=sim.circleci_api_url, project_slugs=SLUG),
        "data_folder": DataFolderResource(home=str(home)),
    }
    return dg.materialize([circleci_pipeline_history], resources=resources, run_config=RUN_CONFIG, raise_on_error=False)


def paths_asked(sim: Simulator, part: str) -> list[str]:
    return [r.path for r in sim.requests if part in r.path]


def test_running_workflows_are_fetched_again_until_they_finish(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    home = tmp_path / "home"
    with Simulator(end_date=END, days=5) as sim:
        monkeypatch.setattr(circleci_api, "utc_now", lambda: sim.now)
        first_now = sim.now
        assert pull(sim, home).success
        listing_pages = paths_asked(sim, "/pipeline")
        running = query(home, "select workflow_id from workflows where status in ('running', 'failing')")
        settled = {w for (w,) in query(home, "select workflow_id from workflows where status in ('success', 'failed')")}
        jobs_1 = dict(query(home, "select job_id, duration_ms from jobs"))

        sim.advance(1)
        sim.requests.clear()
        assert pull(sim, home).success
        jobs_asked = {p.split("/")[4] for p in paths_asked(sim, "/job") if p.startswith("/api/v2/workflow/")}

    # the first pull read one page of pipelines: the history (2 days) ends within it
    assert listing_pages.count(f"/api/v2/project/{SLUG}/pipeline") == 1
    oldest = query(home, "select min(created_at) from pipelines where created_at < "
                         f"timestamp '{(first_now - timedelta(days=2)).replace(tzinfo=None)}'")
    assert oldest == [(None,)]

    # the nightly running at 02:00 has finished and was fetched again, with its jobs
    assert len(running) == 1
    (workflow_id,) = running[0]
    assert query(home, f"select status, stopped_at is not null from workflows where workflow_id = '{workflow_id}'") in (
        [("success", True)], [("failed", True)]
    )
    assert workflow_id in jobs_asked
    unfinished_jobs = [j for j, ms in jobs_1.items() if ms is None]
    assert unfinished_jobs
    assert query(home, f"select count(*) from jobs where duration_ms is null and job_id in {tuple(unfinished_jobs)!r}"
                 .replace(",)", ")")) == [(0,)]
    # finished workflows with their jobs in the lake were not asked for their jobs again
    assert not (settled & jobs_asked)

    # durations: the job details' milliseconds, also as seconds; one row per id
    rows = query(home, "select duration_ms, duration_seconds, resource_class, queued_at <= started_at from jobs "
                       "where stopped_at is not null")
    assert rows and [r for r in rows if not (r[1] == pytest.approx(r[0] / 1000) and r[2] and r[3])] == []
    for table, key in (("pipelines", "pipeline_id"), ("workflows", "workflow_id"), ("jobs", "job_id")):
        assert query(home, f"select count(*) = count(distinct {key}) from {table}") == [(True,)]


def test_a_workflow_whose_job_details_failed_is_fetched_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    home = tmp_path / "home"
    with Simulator(end_date=END, days=5) as sim:
        monkeypatch.setattr(circleci_api, "utc_now", lambda: sim.now)
        # the first job details call fails for good (two attempts); everything else answers
        sim.faults.server_error(times=2, status=502, path_contains=f"project/{SLUG}/job/")
        first = pull(sim, home)
        jobless = query(home, "select workflow_id from workflows w where not exists "
                              "(select 1 from jobs j where j.workflow_id = w.workflow_id)")
        sim.advance(1)
        sim.requests.clear()
        second = pull(sim, home)
        jobs_asked = {p.split("/")[4] for p in paths_asked(sim, "/job") if p.startswith("/api/v2/workflow/")}

    assert not first.success and second.success
    failure = next(e for e in first.all_events if e.is_step_failure).step_failure_data.error.message
    assert f"{SLUG}: GET project/{SLUG}/job/" in failure and "HTTP 502" in failure
    assert len(jobless) == 1 and jobless[0][0] in jobs_asked
    assert query(home, f"select count(*) > 0 from jobs where workflow_id = '{jobless[0][0]}'") == [(True,)]
