"""Edge cases of deployment detection and waste classification, each on a few hand-written rows."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest
from delivery_history import run
from lake_rows import write_rows

from ciwatch_etl.landing.tables import RAW_TABLES
from ciwatch_etl.environment import Paths
from ciwatch_etl.warehouse.build import build_warehouse

OK, FAILED = "success", "failed"


def build(home: Path, tables: dict[str, list[dict]]) -> duckdb.DuckDBPyConnection:
    paths = Paths(home)
    for name, rows in tables.items():
        write_rows(paths.lake, RAW_TABLES[name], rows)
    report = build_warehouse(paths, 0.01)
    assert report.passed, [(m.name, t.name) for m in report.models for t in m.tests if not t.passed]
    return duckdb.connect(str(paths.warehouse), read_only=True)


def in_org(rows: list[dict], org: str) -> list[dict]:
    return [r | {"vcs_url": r["vcs_url"].replace("/acme/", f"/{org}/"), "job_id": f"{org}-{r['job_id']}",
                 "workflow_id": f"{org}-{r['workflow_id']}", "pipeline_id": f"{org}-{r['pipeline_id']}"}
            for r in rows]


def test_environment_names_and_workflows_that_deploy_through_jobs(tmp_path: Path):
    usage = [
        # a deploy-production workflow whose deploy job names no environment: the workflow decides
        *run("R1", "web", "deploy-production", "2026-06-01 10:00:00", [("build", OK, 0, 300), ("deploy", OK, 300, 900)]),
        # its build failed, the deploy job never ran: no deployment, and certainly no failed one
        *run("R2", "web", "deploy-production", "2026-06-02 10:00:00", [("build", FAILED, 0, 300)]),
        # pre-prod is not production; a job's own "prod" wins over a staging workflow's name
        *run("R3", "web", "release", "2026-06-03 10:00:00", [("deploy-pre-prod", OK, 0, 300)]),
        *run("R4", "web", "staging", "2026-06-04 10:00:00", [("deploy-prod", OK, 0, 300)]),
    ]
    with build(tmp_path, {"circleci_usage_jobs": usage}) as con:
        found = con.execute(
            "select run_id, deployment_name, detected_by, environment, outcome from fct_deployments order by run_id"
        ).fetchall()
    assert found == [
        ("R1", "deploy", "job_name", "production", "success"),
        ("R3", "deploy-pre-prod", "job_name", "other", "success"),
        ("R4", "deploy-prod", "job_name", "production", "success"),
    ]


def test_repos_of_the_same_name_in_two_orgs_never_meet(tmp_path: Path):
    usage = [
        *in_org(run("X1", "shop", "deploy", "2026-06-01 10:00:00", [("deploy-production", FAILED, 0, 600)]), "acme"),
        *in_org(run("Y1", "shop", "deploy", "2026-06-01 11:00:00", [("deploy-production", OK, 0, 600)]), "other"),
        *in_org(run("X2", "shop", "build", "2026-06-02 10:00:00", [("test", OK, 0, 1800)]), "acme"),
        *in_org(run("Y2", "shop", "build", "2026-06-02 10:10:00", [("test", OK, 0, 600)]), "other"),
    ]
    with build(tmp_path, {"circleci_usage_jobs": usage}) as con:
        restores = con.execute("select org, restored_at from fct_deployments where outcome = 'failed'").fetchall()
        superseded = con.execute("select count(*) from int_job_runs_classified where waste_category = 'superseded'")
        assert superseded.fetchone() == (0,)
    assert restores == [("acme", None)]


def test_a_rerun_of_an_older_pipeline_supersedes_nothing(tmp_path: Path):
    old = run("W0", "web", "build", "2026-06-01 09:50:00", [("test", FAILED, 0, 600)])
    rerun = [r | {"job_id": "W0r-test", "workflow_id": "W0r"} for r in
             run("W0r", "web", "build", "2026-06-01 10:05:00", [("test", OK, 0, 1200)])]
    rerun = [r | {"pipeline_id": "p-W0", "pipeline_created_at": datetime(2026, 6, 1, 9, 50)} for r in rerun]
    newer = run("W1", "web", "build", "2026-06-01 10:00:00", [("test", OK, 0, 1200)])
    with build(tmp_path, {"circleci_usage_jobs": [*old, *rerun, *newer]}) as con:
        categories = dict(con.execute("select job_id, waste_category from int_job_runs_classified").fetchall())
    assert categories == {"W0-test": "failed", "W0r-test": None, "W1-test": None}


def gocdnext_run(run_id: str, created: str, finished: str, branch: str = "main") -> dict:
    created_at, finished_at = datetime.fromisoformat(created), datetime.fromisoformat(finished)
    return {"run_id": run_id, "created_date": created_at.date(), "server_host": "gocd.example", "project_id": "p",
            "project_slug": "shop", "project_name": "shop", "pipeline_id": "build-pipeline", "pipeline_name": "build",
            "counter": int(run_id[-1]), "cause": "webhook", "status": "success", "branch": branch,
            "revision": f"sha-{run_id}", "created_at": created_at, "started_at": created_at,
            "finished_at": finished_at, "_source_file": "runs", "_source_row": 1}


def gocdnext_job(run_id: str, started: str, finished: str) -> dict:
    started_at, finished_at = datetime.fromisoformat(started), datetime.fromisoformat(finished)
    return {"job_id": f"job-{run_id}", "stage_id": f"stage-{run_id}", "run_id": run_id,
            "run_created_date": started_at.date(), "server_host": "gocd.example", "project_slug": "shop",
            "pipeline_name": "build", "stage_name": "test", "job_name": "unit-tests", "status": "success",
            "attempt": 0, "started_at": started_at, "finished_at": finished_at,
            "duration_seconds": (finished_at - started_at).total_seconds(), "is_approval_gate": False,
            "_source_file": "jobs", "_source_row": 1}


def test_gocdnext_runs_supersede_each_other_without_pipeline_ids(tmp_path: Path):
    tables = {
        "gocdnext_runs": [gocdnext_run("g1", "2026-06-01 10:00:00", "2026-06-01 10:30:00"),
                          gocdnext_run("g2", "2026-06-01 10:10:00", "2026-06-01 10:40:00")],
        "gocdnext_jobs": [gocdnext_job("g1", "2026-06-01 10:00:10", "2026-06-01 10:20:10"),
                          gocdnext_job("g2", "2026-06-01 10:10:10", "2026-06-01 10:30:10")],
    }
    with build(tmp_path, tables) as con:
        rows = con.execute(
            "select item_id, superseded_by_run_id, waste_usd from mart_credit_waste where category = 'superseded'"
        ).fetchall()
    # g1's 20-minute job ran 610 s past g2's start; 20 minutes at 0.008 USD/min is 0.16 USD
    assert rows == [("job-g1#0", "g2", pytest.approx(0.16 * 610 / 1200))]


def test_an_approval_job_is_no_deployment(tmp_path: Path):
    created = datetime(2026, 6, 1, 10, 0)
    pipeline = {"pipeline_id": "p1", "project_slug": "gh/acme/web", "created_at": created,
                "created_date": date(2026, 6, 1), "branch": "main", "revision": "abc", "trigger_type": "webhook",
                "_source_file": "pipelines", "_source_row": 1}
    workflow = {"workflow_id": "w1", "pipeline_id": "p1", "project_slug": "gh/acme/web", "workflow_name": "ship",
                "status": "success", "created_at": created, "created_date": date(2026, 6, 1),
                "stopped_at": datetime(2026, 6, 1, 10, 30), "_source_file": "workflows", "_source_row": 1}

    def job(job_id: str, name: str, kind: str, start: int, stop: int) -> dict:
        return {"job_id": job_id, "workflow_id": "w1", "pipeline_id": "p1", "workflow_created_date": date(2026, 6, 1),
                "project_slug": "gh/acme/web", "job_name": name, "type": kind, "status": "success",
                "started_at": datetime(2026, 6, 1, 10, start), "stopped_at": datetime(2026, 6, 1, 10, stop),
                "_source_file": "jobs", "_source_row": 1}

    tables = {
        "circleci_pipelines": [pipeline],
        "circleci_workflows": [workflow],
        "circleci_jobs": [job("j1", "approve-deploy-prod", "approval", 0, 10), job("j2", "deploy-prod", "build", 10, 30)],
    }
    with build(tmp_path, tables) as con:
        found = con.execute("select deployment_name, environment, lead_time_seconds from fct_deployments").fetchall()
    assert found == [("deploy-prod", "production", 1800.0)]
