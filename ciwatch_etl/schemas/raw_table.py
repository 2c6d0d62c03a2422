"""A raw table of the lake and warehouse: where it lives, its key, columns and partitions.

Lake layout (under `$CIWATCH_HOME/lake/`):
    <lake_path>/<partition_column>=<YYYY-MM-DD>/data.parquet     one file per day partition
    <lake_path>/data.parquet                                      a dimension's one file
    _quarantine/<table name>/<source key>.parquet                 rejected rows of one source

A dimension (`partition_column` None) describes things rather than events (a repository, a
project): its rows belong to no day, and a change to one may change every day of the models
that read it.

The warehouse has one DuckDB table per raw table, `raw.<name>`, and `raw.quarantine` for all
rejected rows, rebuilt from the lake on every publish.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ciwatch_etl.schemas.circleci_usage_columns import LOAD_COLUMN_DOCS


@dataclass(frozen=True)
class RawTable:
    name: str
    lake_path: str
    partition_column: str | None  # None: a dimension, one file
    key: tuple[str, ...]
    columns: tuple[tuple[str, str], ...]
    description: str
    column_docs: tuple[tuple[str, str], ...] = ()  # (column, what it holds): raw column comments

    @property
    def is_dimension(self) -> bool:
        return self.partition_column is None

    def column_doc(self, column: str) -> str:
        """What `column` holds: its stated doc, else where it comes from."""
        stated = dict(LOAD_COLUMN_DOCS + self.column_docs)
        if column in stated:
            return stated[column]
        names = {name for name, _ in self.columns}
        stem = column.removesuffix("_date")
        source = next((n for n in (f"{stem}_at", stem) if column.endswith("_date") and n in names), None)
        if source:
            partition = " (the table's day partition)" if column == self.partition_column else ""
            return f"UTC day of `{source}`{partition}"
        return f"`{column}` as the source's API gives it (see the table comment)"

    def directory(self, lake: Path) -> Path:
        return lake / self.lake_path

    def partition_file(self, lake: Path, value: str | None) -> Path:
        """The file of one day partition (`value` YYYY-MM-DD), or a dimension's file (`value` None)."""
        if self.partition_column is None:
            return self.directory(lake) / "data.parquet"
        return self.directory(lake) / f"{self.partition_column}={value}" / "data.parquet"

    def data_files(self, lake: Path) -> list[Path]:
        """Every data file the table has in the lake, sorted."""
        if self.partition_column is None:
            return [f for f in (self.partition_file(lake, None),) if f.exists()]
        return sorted(self.directory(lake).glob(f"{self.partition_column}=*/data.parquet"))

    def quarantine_directory(self, lake: Path) -> Path:
        return lake / "_quarantine" / self.name


QUARANTINE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("source_table", "varchar"),
    ("source_file", "varchar"),
    ("source_row", "bigint"),
    ("reason", "varchar"),
    ("record", "varchar"),
    ("quarantined_at", "timestamp"),
)
QUARANTINE_COLUMN_DOCS: tuple[tuple[str, str], ...] = (
    ("source_table", "Raw table the row was meant for"),
    ("source_file", "File (or export file, or API request) the row came from"),
    ("source_row", "1-based data row within that file (header not counted)"),
    ("reason", "Every rule the row broke, '; '-separated"),
    ("record", "The row as read, JSON"),
    ("quarantined_at", "UTC time the row was quarantined"),
)
