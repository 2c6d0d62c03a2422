"""A small hand-built CircleCI history for the DORA and performance tests (June 1-14 2026).

Every run is a workflow of the usage export; a job is (name, status, start, end) in seconds after
the pipeline was created. Default rules: deployment_pattern deploy|release, production_pattern
prod/production as a word, default branch main.

shop (gh/acme/shop), workflow `deploy` with deploy jobs, so each job is its own deployment:
    A1 06-01 10:00  build-image ok, deploy-staging ok, deploy-production ok at +1200 s  -> prod, LT 1200
    A2 06-03 09:00  deploy-production failed at +1800 s (09:30)                            -> prod failed
    A3 06-03 11:00  deploy-production ok at +3600 s (12:00)                   -> prod, LT 3600, restores A2
                                                                               after 9000 s
    A4 06-08 08:00  deploy-staging ok            -> staging only: a deployment, not production
    A5 06-09 08:00  deploy-staging failed        -> a failed staging deploy: not in the failure rate
    A6 06-10 14:00  deploy-production ok at +2400 s                          -> prod, LT 2400
    C1 06-11 09:00  workflow `deploy-staging`, job push ok -> detected by workflow name, not production
  and `build` on main (for MTTR): ok 06-02, failed 06-04 12:00 (+600), failed 06-05, ok 06-06 12:00
  (+600), ok 06-07: one red streak, from 06-04 12:10 to 06-06 12:10 = 172800 s.
api (gh/acme/api), workflow `main-pipeline`, found only by a job name (release-prod):
    B1 06-05 10:00  test ok, release-prod ok at +1800 s                       -> prod, LT 1800
    B2 06-12 10:00  release-prod failed at +1200 s                            -> prod failed, never restored
docs (gh/acme/docs): `build`, test ok on 06-06: runs, but no deployment at all.

For the 14 days to 06-14 (2 weeks):
    shop  deployments 3 on 3 days: 1.5 a week -> high; LT median 2400 s -> elite;
          CFR 1/4 = 0.25 -> low; TTR median 9000 s -> high
    api   1 on 1 day: 0.5 a week -> medium; LT 1800 s -> elite; CFR 1/2 -> low; TTR none -> null
    docs  0 deployments: every tier null
    all   4 on 4 days: 2 a week -> high; LT median (1800 + 2400) / 2 = 2100 s -> elite;
          CFR 2/6 -> low; TTR 9000 s (one restore) -> high
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from cost_month import usage_row
from lake_rows import write_rows

from ciwatch_etl.landing.tables import CIRCLECI_USAGE_JOBS
from ciwatch_etl.environment import Paths
from ciwatch_etl.warehouse.build import build_warehouse

Job = tuple[str, str, int, int]  # name, status, start and end in seconds after the pipeline was created


def run(run_id: str, repo: str, workflow: str, created: str, jobs: list[Job], branch: str = "main") -> list[dict]:
    start = datetime.fromisoformat(created)
    all_ok = all(status == "success" for _, status, _, _ in jobs)
    workflow_fields = dict(
        pipeline=f"p-{run_id}", workflow_id=run_id, workflow=workflow, branch=branch, workflow_queued=start,
        workflow_started=start + timedelta(seconds=min(j[2] for j in jobs)),
        workflow_stopped=start + timedelta(seconds=max(j[3] for j in jobs)),
    )
    rows = []
    for name, status, begin, end in jobs:
        row = usage_row(f"{run_id}-{name}", **workflow_fields, job=name, status=status, credits=10,
                        started=start + timedelta(seconds=begin), stopped=start + timedelta(seconds=end))
        rows.append(row | {"vcs_url": f"https://github.com/acme/{repo}", "project_name": repo,
                           "is_workflow_successful": all_ok})
    return rows


def history() -> list[dict]:
    ok, failed = "success", "failed"
    return [
        *run("A1", "shop", "deploy", "2026-06-01 10:00:00", [
            ("build-image", ok, 0, 300), ("deploy-staging", ok, 300, 600), ("deploy-production", ok, 600, 1200)]),
        *run("A2", "shop", "deploy", "2026-06-03 09:00:00", [("deploy-production", failed, 60, 1800)]),
        *run("A3", "shop", "deploy", "2026-06-03 11:00:00", [("deploy-production", ok, 60, 3600)]),
        *run("A4", "shop", "deploy", "2026-06-08 08:00:00", [("deploy-staging", ok, 0, 600)]),
        *run("A5", "shop", "deploy", "2026-06-09 08:00:00", [("deploy-staging", failed, 0, 600)]),
        *run("A6", "shop", "deploy", "2026-06-10 14:00:00", [("deploy-production", ok, 30, 2400)]),
        *run("C1", "shop", "deploy-staging", "2026-06-11 09:00:00", [("push", ok, 0, 300)]),
        *run("S1", "shop", "build", "2026-06-02 12:00:00", [("test", ok, 10, 600)]),
        *run("S2", "shop", "build", "2026-06-04 12:00:00", [("test", failed, 10, 600)]),
        *run("S3", "shop", "build", "2026-06-05 12:00:00", [("test", failed, 10, 900)]),
        *run("S4", "shop", "build", "2026-06-06 12:00:00", [("test", ok, 10, 600)]),
        *run("S5", "shop", "build", "2026-06-07 12:00:00", [("test", ok, 20, 1200)]),
        *run("B1", "api", "main-pipeline", "2026-06-05 10:00:00", [("test", ok, 0, 600), ("release-prod", ok, 600, 1800)]),
        *run("B2", "api", "main-pipeline", "2026-06-12 10:00:00", [("release-prod", failed, 0, 1200)]),
        *run("D1", "docs", "build", "2026-06-06 09:00:00", [("test", ok, 5, 305)]),
    ]


@pytest.fixture(scope="session")
def delivery(tmp_path_factory: pytest.TempPathFactory) -> Paths:
    """The history built once into a warehouse whose model tests all pass (read it only)."""
    paths = Paths(tmp_path_factory.mktemp("delivery"))
    write_rows(paths.lake, CIRCLECI_USAGE_JOBS, history())
    report = build_warehouse(paths, 0.01)
    assert report.passed, [(m.name, t.name) for m in report.models for t in m.tests if not t.passed]
    return paths


@pytest.fixture
def delivery_home(delivery: Paths, monkeypatch: pytest.MonkeyPatch) -> Paths:
    monkeypatch.setenv("CIWATCH_HOME", str(delivery.home))
    return delivery
