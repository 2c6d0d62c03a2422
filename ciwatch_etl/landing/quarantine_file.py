"""The staged quarantine of one source file: rejected rows with reasons, written as they come."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from ciwatch_etl.landing.lake import QUARANTINE_SCHEMA


class QuarantineFile:
    """Appends rows given as `source_row`, `reason`, `record` (JSON text) to a staged file."""

    def __init__(self, path: Path, table: str, source: str, extracted_at: datetime):
        self.path = path
        self.table = table
        self.source = source
        self.extracted_at = extracted_at
        self.rows = 0
        self._writer: pq.ParquetWriter | None = None

    def add(self, rows: pl.DataFrame) -> None:
        if not rows.height:
            return
        rows = rows.with_columns(
            pl.lit(self.table).alias("source_table"),
            pl.lit(self.source).alias("source_file"),
            pl.lit(self.extracted_at).cast(pl.Datetime("us")).alias("quarantined_at"),
        )
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.path, QUARANTINE_SCHEMA)
        self._writer.write_table(rows.select(QUARANTINE_SCHEMA.names).to_arrow().cast(QUARANTINE_SCHEMA))
        self.rows += rows.height

    def close(self) -> Path | None:
        """Close the file; its path, or None when nothing was quarantined."""
        if self._writer is None:
            return None
        self._writer.close()
        return self.path
