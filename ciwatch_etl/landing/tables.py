"""Every raw table, by name: the registry the warehouse build and the SQL models resolve against.

Each source declares its tables beside its schema; this module only gathers them.
"""

from __future__ import annotations

from ciwatch_etl.schemas.raw_table import QUARANTINE_COLUMNS, RawTable
from ciwatch_etl.schemas import circleci_insights, circleci_pipelines, circleci_projects
from ciwatch_etl.schemas.circleci_usage_columns import (
    LOAD_COLUMNS,
    PARTITION_COLUMN,
    QUALITY_COLUMN,
    QUALITY_COLUMN_DOC,
    USAGE_COLUMNS,
)
from ciwatch_etl.schemas.circleci_usage_docs import USAGE_COLUMN_DOCS
from ciwatch_etl.schemas.gocdnext import GOCDNEXT_TABLES
from ciwatch_etl.schemas.gocdnext_projects import PROJECTS as GOCDNEXT_PROJECTS
from ciwatch_etl.schemas.sourcecraft import SOURCECRAFT_TABLES
from ciwatch_etl.schemas.sourcecraft_repos import REPOS as SOURCECRAFT_REPOS

__all__ = ["CIRCLECI_USAGE_JOBS", "QUARANTINE_COLUMNS", "RAW_TABLES", "RawTable"]

CIRCLECI_USAGE_JOBS = RawTable(
    name="circleci_usage_jobs",
    lake_path="circleci/usage_jobs",
    partition_column=PARTITION_COLUMN,
    key=("job_id",),
    columns=tuple((c.name, c.duckdb_type) for c in USAGE_COLUMNS) + LOAD_COLUMNS + (QUALITY_COLUMN,),
    description="One row per CircleCI job run, as billed in the usage export (latest export wins).",
    column_docs=(*USAGE_COLUMN_DOCS.items(), (QUALITY_COLUMN[0], QUALITY_COLUMN_DOC)),
)

RAW_TABLES: dict[str, RawTable] = {
    t.name: t
    for t in (CIRCLECI_USAGE_JOBS, *circleci_insights.TABLES, *circleci_pipelines.TABLES,
              circleci_projects.PROJECTS.table, *GOCDNEXT_TABLES, GOCDNEXT_PROJECTS.table, *SOURCECRAFT_TABLES,
              SOURCECRAFT_REPOS.table)
}
