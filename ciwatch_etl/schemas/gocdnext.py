"""gocdnext raw tables of runs: their columns and what a valid row is (how a run detail becomes
rows: `gocdnext_rows`; projects: `gocdnext_projects`).

A run detail gives one `gocdnext_runs` row, a row per stage and a row per job. Stages and jobs
carry their run's created date, the partition of all three tables, which never changes between
pulls.

Rows breaking a rule are quarantined (negative durations, a missing id or created time, a
negative attempt); unknown statuses land and are flagged by the staging models.
"""

from __future__ import annotations

import pandera.polars as pa

from ciwatch_etl.schemas.circleci_usage_columns import LOAD_COLUMNS
from ciwatch_etl.schemas.declared import table_schema
from ciwatch_etl.schemas.raw_table import RawTable

RUN_COLUMNS: tuple[tuple[str, str], ...] = (
    ("run_id", "varchar"),
    ("created_date", "date"),
    ("server_host", "varchar"),
    ("project_id", "varchar"),
    ("project_slug", "varchar"),
    ("project_name", "varchar"),
    ("pipeline_id", "varchar"),
    ("pipeline_name", "varchar"),
    ("counter", "bigint"),
    ("cause", "varchar"),
    ("status", "varchar"),
    ("triggered_by", "varchar"),
    ("branch", "varchar"),
    ("revision", "varchar"),
    ("revisions", "varchar"),  # the API's JSON map, keys sorted
    ("cause_detail", "varchar"),  # JSON, keys sorted
    ("queue_reason", "varchar"),
    ("cancel_reason", "varchar"),
    ("superseded_by", "varchar"),
    ("has_services", "boolean"),
    ("service_names", "varchar"),  # comma-separated
    ("check_reporting_mode", "varchar"),
    ("created_at", "timestamp"),
    ("started_at", "timestamp"),
    ("finished_at", "timestamp"),
    ("duration_seconds", "double"),
    ("queue_seconds", "double"),
    ("stage_count", "bigint"),
    ("job_count", "bigint"),
)

STAGE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("stage_id", "varchar"),
    ("run_id", "varchar"),
    ("run_created_date", "date"),
    ("server_host", "varchar"),
    ("project_slug", "varchar"),
    ("pipeline_name", "varchar"),
    ("stage_name", "varchar"),
    ("ordinal", "bigint"),
    ("status", "varchar"),
    ("started_at", "timestamp"),
    ("finished_at", "timestamp"),
    ("duration_seconds", "double"),
    ("job_count", "bigint"),
)

JOB_COLUMNS: tuple[tuple[str, str], ...] = (
    ("job_id", "varchar"),
    ("stage_id", "varchar"),
    ("run_id", "varchar"),
    ("run_created_date", "date"),
    ("server_host", "varchar"),
    ("project_slug", "varchar"),
    ("pipeline_name", "varchar"),
    ("stage_name", "varchar"),
    ("job_name", "varchar"),
    ("matrix_key", "varchar"),
    ("image", "varchar"),
    ("status", "varchar"),
    ("attempt", "bigint"),
    ("exit_code", "bigint"),
    ("error", "varchar"),
    ("agent_id", "varchar"),
    ("started_at", "timestamp"),
    ("finished_at", "timestamp"),
    ("duration_seconds", "double"),
    ("cancel_requested_at", "timestamp"),
    ("is_approval_gate", "boolean"),
    ("awaiting_since", "timestamp"),
    ("approval_decision", "varchar"),
    ("approval_decided_by", "varchar"),
    ("approval_decided_at", "timestamp"),
)

GOCDNEXT_RUNS = RawTable(
    name="gocdnext_runs",
    lake_path="gocdnext/runs",
    partition_column="created_date",
    key=("run_id",),
    columns=RUN_COLUMNS + LOAD_COLUMNS,
    description="One row per gocdnext pipeline run (latest pull wins), partitioned by the run's created date.",
)
GOCDNEXT_STAGES = RawTable(
    name="gocdnext_stages",
    lake_path="gocdnext/stages",
    partition_column="run_created_date",
    key=("stage_id",),
    columns=STAGE_COLUMNS + LOAD_COLUMNS,
    description="One row per stage of a gocdnext run (latest pull wins), partitioned by the run's created date.",
)
GOCDNEXT_JOBS = RawTable(
    name="gocdnext_jobs",
    lake_path="gocdnext/jobs",
    partition_column="run_created_date",
    key=("job_id",),
    columns=JOB_COLUMNS + LOAD_COLUMNS,
    description=(
        "One row per job of a gocdnext run, showing its latest attempt (latest pull wins), "
        "partitioned by the run's created date."
    ),
)
GOCDNEXT_TABLES: tuple[RawTable, ...] = (GOCDNEXT_RUNS, GOCDNEXT_STAGES, GOCDNEXT_JOBS)
COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {  # business columns of each table
    GOCDNEXT_RUNS.name: RUN_COLUMNS,
    GOCDNEXT_STAGES.name: STAGE_COLUMNS,
    GOCDNEXT_JOBS.name: JOB_COLUMNS,
}

_ID = [pa.Check.str_length(min_value=1)]
_NOT_NEGATIVE = [pa.Check.ge(0)]
# By column name, in whichever of the three tables has the column.
_CHECKS: dict[str, list[pa.Check]] = {
    "run_id": _ID,
    "stage_id": _ID,
    "job_id": _ID,
    "project_id": _ID,
    "status": _ID,
    "counter": [pa.Check.ge(1)],
    "attempt": _NOT_NEGATIVE,
    "ordinal": _NOT_NEGATIVE,
    "duration_seconds": _NOT_NEGATIVE,
    "queue_seconds": _NOT_NEGATIVE,
}
_REQUIRED = frozenset({"run_id", "stage_id", "job_id", "project_id", "created_at", "status", "counter", "attempt",
                       "ordinal"})


def _schema(table: RawTable) -> pa.DataFrameSchema:
    return table_schema(table, _CHECKS, _REQUIRED)


RUNS_SCHEMA = _schema(GOCDNEXT_RUNS)
STAGES_SCHEMA = _schema(GOCDNEXT_STAGES)
JOBS_SCHEMA = _schema(GOCDNEXT_JOBS)
SCHEMAS: dict[str, pa.DataFrameSchema] = {
    GOCDNEXT_RUNS.name: RUNS_SCHEMA,
    GOCDNEXT_STAGES.name: STAGES_SCHEMA,
    GOCDNEXT_JOBS.name: JOBS_SCHEMA,
}
