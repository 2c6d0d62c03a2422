"""A raw table of the lake and warehouse: where it lives, its key, columns and partitions.

Lake layout (under `$CIWATCH_HOME/lake/`):
    <lake_path>/<partition_column>=<YYYY-MM-DD>/data.parquet     one file per day partition
    _quarantine/<table name>/<source key>.parquet                 rejected rows of one source

The warehouse has one DuckDB table per raw table, `raw.<name>`, and `raw.quarantine` for all
rejected rows, rebuilt from the lake on every publish.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


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


QUARANTINE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("source_table", "varchar"),  # raw table the row was meant for
    ("source_file", "varchar"),  # file (or export file) the row came from
    ("source_row", "bigint"),  # 1-based data row within that file
    ("reason", "varchar"),  # every rule the row broke, '; '-separated
    ("record", "varchar"),  # the row as read, JSON
    ("quarantined_at", "timestamp"),  # UTC
)
