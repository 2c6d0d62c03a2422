"""The SQL models against hand-written raw rows, with expected rows computed by hand."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ciwatch_etl.landing.lake import arrow_schema
from ciwatch_etl.landing.tables import CIRCLECI_USAGE_JOBS
from ciwatch_etl.schemas.circleci_usage_columns import KNOWN_JOB_STATUSES
from ciwatch_etl.environment import Paths
from ciwatch_etl.warehouse.build import ModelTestError, build_warehouse
from ciwatch_etl.warehouse.models import load_models

CREDIT_TYPES = (
    "compute_credits", "dlc_credits", "user_credits", "storage_credits", "network_credits",
    "lease_credits", "lease_overage_credits", "ipranges_credits",
)
DAY1, DAY2 = date(2025, 7, 1), date(2025, 7, 2)


def job(job_id: str, **values: object) -> dict[str, object]:
    """A raw usage row: a successful 60 s job of 8 compute credits unless told otherwise."""
    row: dict[str, object] = {name: None for name, _ in CIRCLECI_USAGE_JOBS.columns}
    row.update(
        job_id=job_id,
        organization_id="org-1",
        organization_name="acme",
        project_name="api",
        vcs_branch="main",
        workflow_name="build",
        job_name="test",
        job_run_date=DAY1,
        job_run_queued_at=datetime(2025, 7, 1, 10, 0, 0),
        job_run_started_at=datetime(2025, 7, 1, 10, 0, 2, 500000),
        job_build_status="success",
        resource_class="medium",
        job_run_seconds=60.0,
        total_credits=8.0,
        _source_file="usage.csv",
        _source_row=1,
    )
    row.update({credit: 0.0 for credit in CREDIT_TYPES}, compute_credits=8.0)
    row.update(values)
    return row


def write_usage_rows(lake: Path, rows: list[dict[str, object]]) -> None:
    """Write rows as the lake's day partitions, as the loader does."""
    by_day: dict[date, list[dict[str, object]]] = defaultdict(list)
    for row in rows:
        by_day[row["job_run_date"]].append(row)
    for day, day_rows in by_day.items():
        target = CIRCLECI_USAGE_JOBS.partition_file(lake, day.isoformat())
        target.parent.mkdir(parents=True, exist_ok=True)
        table = pa.Table.from_pylist(day_rows, schema=arrow_schema(CIRCLECI_USAGE_JOBS.columns))
        pq.write_table(table, target)


def query(paths: Paths, sql: str) -> list[tuple]:
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_fct_credit_usage_daily_equals_hand_computed_rows(ciwatch_home: Path):
    paths = Paths(ciwatch_home)
    write_usage_rows(
        paths.lake,
        [
            job("j1", dlc_credits=1.0, user_credits=2.0, compute_credits=5.0, total_credits=8.0),
            job("j2", job_build_status="failed", job_run_seconds=30.0, compute_credits=3.0,
                total_credits=3.0),
            job("j3", job_build_status="terminated-unknown", job_run_seconds=10.0, compute_credits=1.0,
                total_credits=1.0),
            # no branch and no resource class: one '(none)' row, not a null key
            job("j4", vcs_branch=None, resource_class=None, job_build_status="canceled", job_run_seconds=5.0,
                compute_credits=10.0, network_credits=0.5, total_credits=10.5),
            job("j5", vcs_branch=None, resource_class=None, job_run_seconds=7.0, compute_credits=2.0,
                total_credits=2.0, job_run_queued_at=None),
            job("j6", job_run_date=DAY2, job_run_seconds=20.0, lease_credits=4.0, compute_credits=0.0,
                total_credits=4.0),
            job("j7", organization_id="org-2", organization_name="globex", job_run_seconds=1.0,
                compute_credits=0.25, total_credits=0.25),
        ],
    )
    price = 0.01  # not the default 0.0006

    report = build_warehouse(paths, price)

    rows = query(
        paths,
        """
        select usage_date, provider, org_id, org_name, project_name, workflow_name, job_name, resource_class,
            branch, job_runs, failed_job_runs, canceled_job_runs, job_run_seconds, queue_seconds,
            compute_credits, dlc_credits, user_credits, network_credits, lease_credits, total_credits,
            total_cost_usd
        from fct_credit_usage_daily
        order by usage_date, org_id, branch
        """,
    )
    key = ("circleci",)
    expected = [
        (DAY1, *key, "org-1", "acme", "api", "build", "test", "(none)", "(none)",
         2, 0, 1, 12.0, 2.5, 12.0, 0.0, 0.0, 0.5, 0.0, 12.5, 12.5 * price),
        (DAY1, *key, "org-1", "acme", "api", "build", "test", "medium", "main",
         3, 2, 0, 100.0, 7.5, 9.0, 1.0, 2.0, 0.0, 0.0, 12.0, 12.0 * price),
        (DAY1, *key, "org-2", "globex", "api", "build", "test", "medium", "main",
         1, 0, 0, 1.0, 2.5, 0.25, 0.0, 0.0, 0.0, 0.0, 0.25, 0.25 * price),
        (DAY2, *key, "org-1", "acme", "api", "build", "test", "medium", "main",
         1, 0, 0, 20.0, 2.5, 0.0, 0.0, 0.0, 0.0, 4.0, 4.0, 4.0 * price),
    ]
    assert len(rows) == len(expected)
    for row, want in zip(rows, expected, strict=True):
        assert row[:12] == want[:12]
        assert row[12:] == pytest.approx(want[12:])
    assert report.passed, [(m.name, t.name) for m in report.models for t in m.tests if not t.passed]


def test_staging_renames_flags_statuses_and_computes_queue_seconds(ciwatch_home: Path):
    paths = Paths(ciwatch_home)
    statuses = sorted(KNOWN_JOB_STATUSES) + ["mystery", None]
    write_usage_rows(paths.lake, [job(f"j{i}", job_build_status=s) for i, s in enumerate(statuses)])

    build_warehouse(paths, 0.0006)

    flags = dict(query(paths, "select job_status, is_known_job_status from stg_circleci__usage_jobs"))
    assert flags == {**{s: True for s in KNOWN_JOB_STATUSES}, "mystery": False, None: False}
    assert query(
        paths,
        "select distinct provider, org_id, org_name, branch, queue_seconds, job_started_at "
        "from stg_circleci__usage_jobs",
    ) == [("circleci", "org-1", "acme", "main", 2.5, datetime(2025, 7, 1, 10, 0, 2, 500000))]


def test_error_checks_stop_the_build_and_keep_the_previous_warehouse(ciwatch_home: Path):
    paths = Paths(ciwatch_home)
    write_usage_rows(paths.lake, [job("good")])
    build_warehouse(paths, 0.0006)
    published = paths.warehouse.read_bytes()
    write_usage_rows(
        paths.lake,
        [
            job("dup"),
            job("dup", job_run_date=DAY2),  # the same job in two day partitions
            job("off", compute_credits=5.0, total_credits=6.0),
            job("neg", compute_credits=-1.0, total_credits=-1.0, vcs_branch="other"),
        ],
    )

    with pytest.raises(ModelTestError) as stopped:
        build_warehouse(paths, 0.0006)

    failed = {(model, test.name): test.failing_rows for model, test in stopped.value.failed}
    # only the checks that block publishing: unique keys, credit types adding up, waste within spend
    assert failed == {
        ("stg_circleci__usage_jobs", "unique_job_id"): 1,
        ("stg_circleci__usage_jobs", "credit_types_add_up"): 1,
        ("fct_credit_usage_daily", "credit_types_add_up"): 1,
        ("int_job_runs_priced", "unique_provider__job_id"): 1,
        ("int_job_runs_classified", "unique_provider__job_id"): 1,
        ("int_job_runs_classified", "waste_within_job_spend"): 1,  # the negative credits
        ("mart_cost_breakdown", "adds_up_to_job_spend"): 1,  # the types that do not add up
    }
    assert "unique_job_id (1 rows)" in str(stopped.value) and "not published" in str(stopped.value)
    assert paths.warehouse.read_bytes() == published
    # its marts still read the rows of its own build (raw views read the lake as it is now)
    assert query(paths, "select sum(job_runs) from fct_credit_usage_daily") == [(1,)]


def test_warn_checks_are_reported_and_the_warehouse_published(ciwatch_home: Path):
    paths = Paths(ciwatch_home)
    write_usage_rows(paths.lake, [job("odd", workflow_id="w1", job_build_status="paused-by-mars")])

    report = build_warehouse(paths, 0.0006)

    failed = {(m.name, t.name) for m in report.models for t in m.tests if not t.passed}
    assert ("int_ci_jobs", "every_status_mapped") in failed
    assert all(t.severity == "warn" for m in report.models for t in m.tests if not t.passed)
    assert query(paths, "select count(*) from stg_circleci__usage_jobs") == [(1,)]


def write_model(root: Path, name: str, sql: str, yml: str) -> None:
    (root / "staging").mkdir(parents=True, exist_ok=True)
    (root / "staging" / f"{name}.sql").write_text(sql)
    (root / "staging" / f"{name}.yml").write_text(yml)


def test_each_kind_of_model_test_fails_on_its_violation(tmp_path: Path):
    models_dir = tmp_path / "models"
    write_model(
        models_dir,
        "things",
        "-- One row per thing (with planted faults).\n"
        "select * from (values (1, 'a', 'red', 2, 1, 1), (1, 'a', 'blue', 2, 1, null),"
        " (2, null, 'green', 4, 1, 2)) as t(id, code, colour, total, part, extra)",
        """
columns:
  id: {description: "id", tests: [unique]}
  code: {description: "code", tests: [not_null]}
  colour: {description: "colour", tests: [{accepted_values: [red, "it's blue"]}]}
  total: {description: "total"}
  part: {description: "part"}
  extra: {}
  missing: {description: "declared but never built"}
tests:
  - unique: [id, code]
  - expression: {name: parts_add_up, sql: "part + extra = total"}
""",
    )
    paths = Paths(tmp_path / "home")

    with pytest.raises(ModelTestError) as stopped:  # the unique keys are error checks
        build_warehouse(paths, 0.0006, models=load_models(models_dir))

    tests = stopped.value.results["things"]
    results = {t.name: (t.passed, t.failing_rows) for t in tests}
    assert {t.name for t in tests if t.severity == "error"} == {"unique_id", "unique_id__code"}
    assert results == {
        "unique_id": (False, 1),
        "not_null_code": (False, 1),
        "accepted_values_colour": (False, 2),
        "unique_id__code": (False, 1),
        # 1 + 2 <> 4 fails; a null result fails too
        "parts_add_up": (False, 2),
        # `extra` has no description, `missing` is not in the table
        "columns_documented": (False, 2),
    }
    with duckdb.connect() as con:  # the test's SQL reproduces the failure wherever the table is
        con.execute(f"create table things as {load_models(models_dir)[0].sql}")
        problems = con.execute(tests[-1].sql).fetchall()
    assert sorted(problems) == [
        ("extra", "no description in the yml"),
        ("missing", "in the yml but not in the table"),
    ]
