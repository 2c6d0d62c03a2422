"""gocdnext raw tables of runs: their lake tables and what a valid row is (their columns, and how
a run detail becomes rows: `gocdnext_rows`; projects: `gocdnext_projects`).

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
from ciwatch_etl.schemas.gocdnext_rows import JOB_FIELDS, RUN_FIELDS, STAGE_FIELDS
from ciwatch_etl.schemas.json_rows import columns_of
from ciwatch_etl.schemas.raw_table import RawTable

RUN_COLUMNS = columns_of(RUN_FIELDS)
STAGE_COLUMNS = columns_of(STAGE_FIELDS)
JOB_COLUMNS = columns_of(JOB_FIELDS)

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
