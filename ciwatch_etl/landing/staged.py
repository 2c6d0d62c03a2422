"""Staging one source (a file or an API page set) for a load: valid rows and quarantined rows.

Every source of every table goes through here: batches are validated, valid rows appended to a
staged Parquet file (with where they came from), rejected rows to a staged quarantine file.
Nothing is visible in the lake until the load merges and publishes (see `lake.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from ciwatch_etl.landing.lake import QUARANTINE_SCHEMA, Staging, arrow_schema
from ciwatch_etl.schemas.raw_table import RawTable
from ciwatch_etl.schemas.validation import ValidatedBatch

# Within one load a later source wins over an earlier one, and a later row over an earlier one.
LATEST_FIRST = "_file_seq desc, _source_row desc"


@dataclass(frozen=True)
class Source:
    """Where rows come from: the name they carry, and the identity their quarantine is kept under."""

    name: str
    key: str


class StagedSource:
    """Staged output of one source of one load."""

    def __init__(
        self,
        staging: Staging,
        table: RawTable,
        seq: int,
        source: Source,
        extracted_at: datetime,
        validate: Callable[[pl.DataFrame], ValidatedBatch],
    ):
        self.table = table
        self.source = source
        self.seq = seq
        self.extracted_at = extracted_at
        self._validate = validate
        self._schema = arrow_schema(table.columns).append(pa.field("_file_seq", pa.int64()))
        self.valid_path = staging.path(f"valid-{seq:05d}.parquet")
        self._quarantine_path = staging.path(f"quarantine-{seq:05d}.parquet")
        self._valid = pq.ParquetWriter(self.valid_path, self._schema)
        self._quarantine: pq.ParquetWriter | None = None
        self.rows_read = 0
        self.rows_valid = 0
        self.rows_quarantined = 0
        self.rows_flagged = 0

    def add_batch(self, batch: pl.DataFrame) -> None:
        """Validate and stage typed rows (the table's columns, `_row_hash`, optional `_parse_errors`)."""
        frame = batch.with_columns(
            pl.int_range(self.rows_read + 1, self.rows_read + batch.height + 1, dtype=pl.Int64).alias("_source_row"),
            pl.lit(self.source.name).alias("_source_file"),
            pl.lit(self.extracted_at).cast(pl.Datetime("us")).alias("_extracted_at"),
            pl.lit(self.seq, dtype=pl.Int64).alias("_file_seq"),
        )
        self.rows_read += batch.height
        checked = self._validate(frame)
        self.rows_flagged += checked.flagged
        if checked.valid.height:
            self._valid.write_table(checked.valid.select(self._schema.names).to_arrow().cast(self._schema))
            self.rows_valid += checked.valid.height
        if checked.rejected.height:
            record = pl.struct(pl.exclude("_reason", "_file_seq", "_extracted_at", "_row_hash"))
            self.add_quarantine(
                checked.rejected.select(
                    pl.col("_source_row").alias("source_row"),
                    pl.col("_reason").alias("reason"),
                    record.struct.json_encode().alias("record"),
                )
            )

    def add_quarantine(self, rows: pl.DataFrame) -> None:
        """Quarantine rows given as `source_row`, `reason`, `record` (JSON text)."""
        rows = rows.with_columns(
            pl.lit(self.table.name).alias("source_table"),
            pl.lit(self.source.name).alias("source_file"),
            pl.lit(self.extracted_at).cast(pl.Datetime("us")).alias("quarantined_at"),
        )
        if self._quarantine is None:
            self._quarantine = pq.ParquetWriter(self._quarantine_path, QUARANTINE_SCHEMA)
        self._quarantine.write_table(rows.select(QUARANTINE_SCHEMA.names).to_arrow().cast(QUARANTINE_SCHEMA))
        self.rows_quarantined += rows.height

    def close(self) -> None:
        self._valid.close()
        if self._quarantine is not None:
            self._quarantine.close()

    @property
    def staged_quarantine(self) -> Path | None:
        return self._quarantine_path if self._quarantine is not None else None
