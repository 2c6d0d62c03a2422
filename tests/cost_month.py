"""A hand-built month of CircleCI usage for the cost, waste and report tests.

The month (June 2026, one CircleCI project gh/acme/api, 0.01 USD per credit):

pipeline p1, main, workflow `build` run twice (w1 failed, then the re-run w2 passed):
    j1  test  failed   50 credits  -> flaky_test: passed on the re-run, Insights lists a flaky test
    j2  lint  success  20
    j3  test  success  50          (the success that is kept)
    j4  lint  success  20          -> rerun: lint had already passed in w1
pipelines p2 and p3 on feature/x, workflow `build`:
    j5  test  success 100 credits, 11:00:30-11:20:30; w4 (p3) started 11:15:30, before w3 finished
                                  -> superseded: the last 300 of 1200 s = 25 credits
    j6  test  success  80          (w4, the newer run: kept)
pipeline p4, main, `deploy`, API-triggered:   j7 deploy canceled 12  -> canceled
pipeline p5, main, `nightly`, scheduled:      j8 e2e    failed   30  -> failed (nobody re-ran it)
`heavy` on docker xlarge (40 credits/min), eleven runs on June 1..11, one a day:
    r1..r9  success, utilisation measured (avg CPU 20%, max 35%; avg RAM 25%, max 38%)
            r1 also spent 10 DLC credits (a smaller class saves compute credits only)
    r10     failed, measured: counts toward the ten measured runs, its credits are failed waste
    r11     success, too short to be measured
    -> over-provisioned: the next smaller docker class is large (20/min), saving half of the
       compute credits outside other waste: (9 + 1) runs x 40 x (1 - 20/40) = 200 credits

Spend: 50+20+50+20+100+80+12+30 + (50 + 8x40 + 40 + 40) = 812 credits = 8.12 USD.
Waste: flaky 50, failed 30+40 = 70, canceled 12, rerun 20, superseded 25, overprovisioned 200:
377 credits = 3.77 USD, under the 812 spent. Queue wait (75 USD/h, scheduled and API runs left
out): w1 60 s + w3 30 s + w4 30 s = 120 s = 2.50 USD.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest
from lake_rows import write_rows

from ciwatch_etl.landing.tables import CIRCLECI_USAGE_JOBS
from ciwatch_etl.schemas.circleci_insights import FLAKY_TESTS
from ciwatch_etl.environment import Paths
from ciwatch_etl.warehouse.build import build_warehouse

PRICE = 0.01
JUNE_10 = date(2026, 6, 10)
CREDIT_TYPES = ("compute_credits", "dlc_credits", "user_credits", "storage_credits", "network_credits",
                "lease_credits", "lease_overage_credits", "ipranges_credits")


def at(day: date, clock: str) -> datetime:
    return datetime.combine(day, datetime.strptime(clock, "%H:%M:%S").time())


def usage_row(job_id: str, *, pipeline: str, workflow_id: str, workflow: str, job: str, status: str,
              credits: float, started: datetime, stopped: datetime, workflow_queued: datetime,
              workflow_started: datetime, workflow_stopped: datetime, branch: str = "main",
              trigger: str = "webhook", resource_class: str = "medium", dlc: float = 0.0,
              utilisation: tuple[float, float, float, float] | None = None) -> dict[str, object]:
    row: dict[str, object] = {
        "job_id": job_id, "organization_id": "org-1", "organization_name": "acme", "project_id": "proj-1",
        "project_name": "api", "vcs_url": "https://github.com/acme/api", "vcs_branch": branch,
        "pipeline_id": pipeline, "pipeline_created_at": workflow_queued, "pipeline_trigger_source": trigger,
        "workflow_id": workflow_id, "workflow_name": workflow, "workflow_first_job_queued_at": workflow_queued,
        "workflow_first_job_started_at": workflow_started, "workflow_stopped_at": workflow_stopped,
        "is_workflow_successful": status == "success", "job_name": job, "job_run_date": started.date(),
        "job_run_queued_at": started, "job_run_started_at": started, "job_run_stopped_at": stopped,
        "job_build_status": status, "executor": "docker", "resource_class": resource_class,
        "job_run_seconds": (stopped - started).total_seconds(), "_source_file": "usage.csv", "_source_row": 1,
        **dict.fromkeys(CREDIT_TYPES, 0.0),
    }
    row.update(compute_credits=credits, dlc_credits=dlc, total_credits=credits + dlc)
    if utilisation:
        row.update(zip(("median_cpu_utilization_pct", "max_cpu_utilization_pct", "median_ram_utilization_pct",
                        "max_ram_utilization_pct"), utilisation))
    return row


def june_rows() -> list[dict[str, object]]:
    d = JUNE_10
    w1 = dict(pipeline="p1", workflow_id="w1", workflow="build", workflow_queued=at(d, "10:00:00"),
              workflow_started=at(d, "10:01:00"), workflow_stopped=at(d, "10:20:00"))
    w2 = dict(pipeline="p1", workflow_id="w2", workflow="build", workflow_queued=at(d, "10:30:00"),
              workflow_started=at(d, "10:30:00"), workflow_stopped=at(d, "10:45:00"))
    w3 = dict(pipeline="p2", workflow_id="w3", workflow="build", branch="feature/x",
              workflow_queued=at(d, "11:00:00"), workflow_started=at(d, "11:00:30"), workflow_stopped=at(d, "11:30:00"))
    w4 = dict(pipeline="p3", workflow_id="w4", workflow="build", branch="feature/x",
              workflow_queued=at(d, "11:15:30"), workflow_started=at(d, "11:16:00"), workflow_stopped=at(d, "11:40:00"))
    w5 = dict(pipeline="p4", workflow_id="w5", workflow="deploy", trigger="api", workflow_queued=at(d, "12:00:00"),
              workflow_started=at(d, "12:00:10"), workflow_stopped=at(d, "12:05:00"))
    w6 = dict(pipeline="p5", workflow_id="w6", workflow="nightly", trigger="schedule",
              workflow_queued=at(d, "02:00:00"), workflow_started=at(d, "02:00:20"), workflow_stopped=at(d, "02:30:00"))
    rows = [
        usage_row("j1", **w1, job="test", status="failed", credits=50, started=at(d, "10:01:00"), stopped=at(d, "10:11:00")),
        usage_row("j2", **w1, job="lint", status="success", credits=20, started=at(d, "10:01:00"), stopped=at(d, "10:05:00")),
        usage_row("j3", **w2, job="test", status="success", credits=50, started=at(d, "10:30:00"), stopped=at(d, "10:40:00")),
        usage_row("j4", **w2, job="lint", status="success", credits=20, started=at(d, "10:30:00"), stopped=at(d, "10:34:00")),
        usage_row("j5", **w3, job="test", status="success", credits=100, started=at(d, "11:00:30"), stopped=at(d, "11:20:30")),
        usage_row("j6", **w4, job="test", status="success", credits=80, started=at(d, "11:16:00"), stopped=at(d, "11:36:00")),
        usage_row("j7", **w5, job="deploy", status="canceled", credits=12, started=at(d, "12:00:10"), stopped=at(d, "12:01:00")),
        usage_row("j8", **w6, job="e2e", status="failed", credits=30, started=at(d, "02:00:20"), stopped=at(d, "02:30:00")),
    ]
    for n in range(1, 12):
        day = date(2026, 6, n)
        start, stop = at(day, "08:00:00"), at(day, "08:01:00")
        rows.append(usage_row(
            f"r{n}", pipeline=f"heavy-p{n}", workflow_id=f"heavy-w{n}", workflow="heavy", job="heavy",
            status="failed" if n == 10 else "success", credits=40, dlc=10.0 if n == 1 else 0.0,
            resource_class="xlarge", started=start, stopped=stop, workflow_queued=start, workflow_started=start,
            workflow_stopped=stop, utilisation=None if n == 11 else (20.0, 35.0, 25.0, 38.0),
        ))
    return rows


FLAKY_TEST = {
    "project_slug": "gh/acme/api", "snapshot_date": date(2026, 6, 12), "flaky_test_id": "t1",
    "test_name": "test_payment_retry", "workflow_name": "build", "job_name": "test", "times_flaked": 1,
    "time_wasted": 600,
}


@pytest.fixture(scope="session")
def june_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Paths:
    """The month landed and built once into a warehouse whose model tests all pass (read it only)."""
    paths = Paths(tmp_path_factory.mktemp("june"))
    write_rows(paths.lake, CIRCLECI_USAGE_JOBS, june_rows())
    write_rows(paths.lake, FLAKY_TESTS.table, [FLAKY_TEST])
    report = build_warehouse(paths, PRICE)
    assert report.passed, [(m.name, t.name) for m in report.models for t in m.tests if not t.passed]
    return paths


@pytest.fixture
def june(june_warehouse: Paths, monkeypatch: pytest.MonkeyPatch) -> Paths:
    """The month's warehouse as CIWATCH_HOME, for the command line."""
    monkeypatch.setenv("CIWATCH_HOME", str(june_warehouse.home))
    return june_warehouse
