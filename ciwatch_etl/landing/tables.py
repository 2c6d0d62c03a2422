"""The raw tables of the lake and warehouse: where each lives and what it holds.

Lake layout (under `$CIWATCH_HOME/lake/`):
    <lake_path>/<partition_column>=<YYYY-MM-DD>/data.parquet     one file per day partition
    _quarantine/<table name>/<source key>.parquet                 rejected rows of one source file

The warehouse has one DuckDB table per raw table, `raw.<name>`, and `raw.quarantine` for all
rejected rows, rebuilt from the lake on every publish.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ciwatch_etl.schemas.circleci_usage_columns import (
    LOAD_COLUMNS,
    PARTITION_COLUMN,
    USAGE_COLUMNS,
)


@dataclass(frozen=True)
class RawTable:
    name: str
    lake_path: str
    partition_column: str
    key: tuple[str, ...]
    columns: tuple[tuple[str, str], ...]
    description: str

    def directory(self, lake: Path) -> Path:
        return lake / self.lake_path

    def partition_file(self, lake: Path, value: str) -> Path:
        return self.directory(lake) / f"{self.partition_column}={value}" / "data.parquet"

    def quarantine_directory(self, lake: Path) -> Path:
        return lake / "_quarantine" / self.name


CIRCLECI_USAGE_JOBS = RawTable(
    name="circleci_usage_jobs",
    lake_path="circleci/usage_jobs",
    partition_column=PARTITION_COLUMN,
    key=("job_id",),
    columns=tuple((c.name, c.duckdb_type) for c in USAGE_COLUMNS) + LOAD_COLUMNS,
    description="One row per CircleCI job run, as billed in the usage export (latest export wins).",
)

RAW_TABLES: dict[str, RawTable] = {t.name: t for t in (CIRCLECI_USAGE_JOBS,)}

QUARANTINE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("source_table", "varchar"),  # raw table the row was meant for
    ("source_file", "varchar"),  # file (or export file) the row came from
    ("source_row", "bigint"),  # 1-based data row within that file
    ("reason", "varchar"),  # every rule the row broke, '; '-separated
    ("record", "varchar"),  # the row as read, JSON
    ("quarantined_at", "timestamp"),  # UTC
)
