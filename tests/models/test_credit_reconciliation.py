"""mart_credit_reconciliation on hand-built rows: Insights credits against the usage export."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest
from lake_rows import write_rows

from ciwatch_etl.landing.tables import CIRCLECI_USAGE_JOBS
from ciwatch_etl.schemas.circleci_insights import WORKFLOW_RUNS
from ciwatch_etl.environment import Paths
from ciwatch_etl.warehouse.build import build_warehouse

JULY_1, JULY_2 = date(2025, 7, 1), date(2025, 7, 2)


def usage_job(job_id: str, workflow_id: str, workflow: str, day: date, compute: float, dlc: float = 0.0,
              storage: float = 0.0) -> dict:
    return {
        "job_id": job_id, "workflow_id": workflow_id, "workflow_name": workflow, "job_run_date": day,
        "organization_id": "org-1", "project_id": "proj-1", "project_name": "api",
        "vcs_url": "https://github.com/acme/api", "job_name": "test", "job_build_status": "success",
        "is_workflow_successful": True,
        "compute_credits": compute, "dlc_credits": dlc, "storage_credits": storage,
        "total_credits": compute + dlc + storage,
        **{c: 0.0 for c in ("user_credits", "network_credits", "lease_credits", "lease_overage_credits",
                            "ipranges_credits")},
    }


def insights_run(workflow_id: str, workflow: str, day: date, credits: int) -> dict:
    return {
        "workflow_id": workflow_id, "project_slug": "gh/acme/api", "workflow_name": workflow, "status": "success",
        "created_at": datetime(day.year, day.month, day.day, 23, 0), "created_date": day, "credits_used": credits,
    }


def test_reconciliation_compares_insights_with_compute_and_dlc_credits(ciwatch_home: Path):
    """Insights counts compute and docker layer caching credits: those are what it is held to."""
    paths = Paths(ciwatch_home)
    write_rows(paths.lake, CIRCLECI_USAGE_JOBS, [
        # build, July 1: two runs, 30.5 compute + DLC against 30 in Insights (1.6% apart)
        usage_job("j1", "w1", "build", JULY_1, compute=10.0, dlc=0.5),
        usage_job("j2", "w2", "build", JULY_1, compute=12.0),
        usage_job("j3", "w2", "build", JULY_2, compute=8.0),  # ran past midnight: still July 1's run
        # deploy, July 1: 12 compute + DLC against 12 (agree), though the bill adds 3 of storage
        usage_job("j4", "w3", "deploy", JULY_1, compute=10.0, dlc=2.0, storage=3.0),
        # deploy, July 2: billed, but Insights never saw the run
        usage_job("j5", "w4", "deploy", JULY_2, compute=5.0),
    ])
    write_rows(paths.lake, WORKFLOW_RUNS.table, [
        insights_run("w1", "build", JULY_1, 10),
        insights_run("w2", "build", JULY_1, 20),
        insights_run("w3", "deploy", JULY_1, 12),
        insights_run("w5", "build", JULY_2, 7),  # not in the usage export (not loaded yet)
    ])

    report = build_warehouse(paths, 0.0006)

    assert [(m.name, t.name) for m in report.models for t in m.tests if not t.passed] == []
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        rows = con.execute(
            """
            select run_date, project_slug, workflow_name, insights_workflow_runs, usage_workflow_runs,
                matched_workflow_runs, insights_credits, usage_total_credits, usage_compute_dlc_credits,
                credit_difference, relative_difference, is_over_threshold, is_fully_matched
            from mart_credit_reconciliation
            order by run_date, workflow_name
            """
        ).fetchall()
    expected = [
        (JULY_1, "gh/acme/api", "build", 2, 2, 2, 30, 30.5, 30.5, -0.5, -0.5 / 30.5, False, True),
        (JULY_1, "gh/acme/api", "deploy", 1, 1, 1, 12, 15.0, 12.0, 0.0, 0.0, False, True),
        (JULY_2, "gh/acme/api", "build", 1, 0, 0, 7, 0.0, 0.0, 7.0, None, True, False),
        (JULY_2, "gh/acme/api", "deploy", 0, 1, 0, 0, 5.0, 5.0, -5.0, -1.0, True, False),
    ]
    assert len(rows) == len(expected)
    for row, want in zip(rows, expected, strict=True):
        assert row[:7] == want[:7] and row[11:] == want[11:]
        assert row[7:11] == pytest.approx(want[7:11])
