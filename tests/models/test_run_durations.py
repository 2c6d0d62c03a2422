"""Run durations take start and stop at the same precision, and are never negative.

CircleCI's workflow `stopped_at` has whole seconds while job times (job details) have
milliseconds: a one-job workflow whose job ran 41.658 s stopped at a whole second before the
job's own stop, and `stopped_at - first job started_at` gave 40.764 s (or less than zero for
very short runs). The run now ends at its last job's stop when that is later.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest
from lake_rows import write_rows

from ciwatch_etl.schemas.circleci_pipelines import JOBS, WORKFLOWS
from ciwatch_etl.environment import Paths
from ciwatch_etl.warehouse.build import build_warehouse

DAY = date(2025, 7, 2)


def workflow(workflow_id: str, created: datetime, stopped: datetime) -> dict:
    return {"workflow_id": workflow_id, "pipeline_id": "p-" + workflow_id, "project_slug": "gh/acme/api",
            "workflow_name": "build", "status": "success", "created_at": created, "created_date": DAY,
            "stopped_at": stopped}


def job(job_id: str, workflow_id: str, started: datetime, stopped: datetime) -> dict:
    return {"job_id": job_id, "workflow_id": workflow_id, "workflow_created_date": DAY, "project_slug": "gh/acme/api",
            "job_name": "test", "type": "build", "status": "success", "started_at": started, "stopped_at": stopped}


def test_a_one_job_run_lasts_as_long_as_its_job_and_never_less_than_zero(ciwatch_home: Path):
    paths = Paths(ciwatch_home)
    write_rows(paths.lake, WORKFLOWS.table, [
        # the job ran 10:00:01.236 .. 10:00:42.894 (41.658 s); the workflow says it stopped at 10:00:42
        workflow("w1", datetime(2025, 7, 2, 10, 0, 0), datetime(2025, 7, 2, 10, 0, 42)),
        # a 0.4 s job: started after the whole second the workflow reports as its stop
        workflow("w2", datetime(2025, 7, 2, 11, 0, 0), datetime(2025, 7, 2, 11, 0, 5)),
    ])
    write_rows(paths.lake, JOBS.table, [
        job("j1", "w1", datetime(2025, 7, 2, 10, 0, 1, 236000), datetime(2025, 7, 2, 10, 0, 42, 894000)),
        job("j2", "w2", datetime(2025, 7, 2, 11, 0, 5, 300000), datetime(2025, 7, 2, 11, 0, 5, 700000)),
    ])

    build_warehouse(paths, 0.0006)

    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        durations = dict(con.execute("select run_id, duration_seconds from int_ci_runs").fetchall())
        jobs = dict(con.execute("select job_id, duration_seconds from int_ci_jobs").fetchall())
    assert jobs == {"j1": pytest.approx(41.658), "j2": pytest.approx(0.4)}
    assert durations == {"w1": pytest.approx(41.658), "w2": pytest.approx(0.4)}
