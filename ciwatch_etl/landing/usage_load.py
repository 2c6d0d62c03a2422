"""Land CircleCI usage export files: parse, validate, quarantine, merge into the lake.

Used alike by the API asset (files it downloaded) and by `ciwatch-etl load-usage` (files a
person downloaded). Nothing reaches the lake until every file of the load has been read: a
file that cannot be read at all stops the load with its name, and the lake stays as it was.
Memory stays flat: rows go batch by batch from DuckDB's CSV reader to staged Parquet.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from ciwatch_etl.landing.lake import (
    QUARANTINE_SCHEMA,
    MergeReport,
    Staging,
    arrow_schema,
    merge_into_lake,
    publish_quarantine,
)
from ciwatch_etl.landing.tables import CIRCLECI_USAGE_JOBS
from ciwatch_etl.landing.usage_csv import FileScan, scan_usage_file
from ciwatch_etl.schemas.circleci_usage import validate_usage_batch

TABLE = CIRCLECI_USAGE_JOBS
_STAGED_SCHEMA = arrow_schema(TABLE.columns).append(pa.field("_file_seq", pa.int64()))
# Within one load, a later file wins over an earlier one, and a later row over an earlier one.
_LATEST_FIRST = "_file_seq desc, _source_row desc"
MEMORY_LIMIT = "1GB"


@dataclass(frozen=True)
class UsageFile:
    """One file to land: where it is, the name rows will carry, and its quarantine identity."""

    path: Path
    source: str
    source_key: str


@dataclass
class UsageLoadReport:
    files: int = 0
    rows_read: int = 0
    rows_valid: int = 0
    rows_quarantined: int = 0
    unknown_statuses: int = 0
    merge: MergeReport = field(default_factory=lambda: MergeReport((), 0, 0, 0))
    notes: list[str] = field(default_factory=list)


class _FileLoad:
    """Staged output of one file: valid rows and quarantined rows, each a Parquet file."""

    def __init__(self, staging: Staging, seq: int, file: UsageFile, extracted_at: datetime):
        self.file = file
        self.seq = seq
        self.extracted_at = extracted_at
        self.valid_path = staging.path(f"valid-{seq:05d}.parquet")
        self.quarantine_path = staging.path(f"quarantine-{seq:05d}.parquet")
        self._valid = pq.ParquetWriter(self.valid_path, _STAGED_SCHEMA)
        self._quarantine: pq.ParquetWriter | None = None
        self.rows_read = 0
        self.rows_valid = 0
        self.rows_quarantined = 0
        self.unknown_statuses = 0

    def add_batch(self, batch: pa.RecordBatch) -> None:
        frame = pl.from_arrow(batch).with_columns(
            pl.int_range(self.rows_read + 1, self.rows_read + batch.num_rows + 1, dtype=pl.Int64)
            .alias("_source_row"),
            pl.lit(self.file.source).alias("_source_file"),
            pl.lit(self.extracted_at).cast(pl.Datetime("us")).alias("_extracted_at"),
            pl.lit(self.seq, dtype=pl.Int64).alias("_file_seq"),
        )
        self.rows_read += batch.num_rows
        checked = validate_usage_batch(frame)
        self.unknown_statuses += checked.unknown_statuses
        if checked.valid.height:
            self._valid.write_table(checked.valid.select(_STAGED_SCHEMA.names).to_arrow().cast(_STAGED_SCHEMA))
            self.rows_valid += checked.valid.height
        if checked.rejected.height:
            record = pl.struct(pl.exclude("_reason", "_file_seq", "_extracted_at", "_row_hash"))
            self._write_quarantine(
                checked.rejected.select(
                    pl.col("_source_row").alias("source_row"),
                    pl.col("_reason").alias("reason"),
                    record.struct.json_encode().alias("record"),
                )
            )

    def add_malformed(self, scan: FileScan) -> None:
        if not scan.malformed:
            return
        self._write_quarantine(
            pl.DataFrame(
                {
                    "source_row": [m.line for m in scan.malformed],
                    "reason": [m.reason for m in scan.malformed],
                    "record": [json.dumps({"line": m.text}) for m in scan.malformed],
                },
                schema={"source_row": pl.Int64, "reason": pl.String, "record": pl.String},
            )
        )

    def _write_quarantine(self, rows: pl.DataFrame) -> None:
        rows = rows.with_columns(
            pl.lit(TABLE.name).alias("source_table"),
            pl.lit(self.file.source).alias("source_file"),
            pl.lit(self.extracted_at).cast(pl.Datetime("us")).alias("quarantined_at"),
        )
        if self._quarantine is None:
            self._quarantine = pq.ParquetWriter(self.quarantine_path, QUARANTINE_SCHEMA)
        self._quarantine.write_table(rows.select(QUARANTINE_SCHEMA.names).to_arrow().cast(QUARANTINE_SCHEMA))
        self.rows_quarantined += rows.height

    def close(self) -> None:
        self._valid.close()
        if self._quarantine is not None:
            self._quarantine.close()

    @property
    def staged_quarantine(self) -> Path | None:
        return self.quarantine_path if self._quarantine is not None else None


def land_usage_files(
    lake: Path,
    files: Sequence[UsageFile],
    extracted_at: datetime,
    on_file: Callable[[UsageFile, int], None] | None = None,
) -> UsageLoadReport:
    """Land usage files into `lake` (later files win over earlier ones for the same job id).

    `extracted_at` is a naive UTC timestamp; `on_file(file, rows)` reports progress.
    """
    report = UsageLoadReport(files=len(files))
    staging = Staging(lake)
    loads: list[_FileLoad] = []
    try:
        # A file-backed scratch database with a memory cap: a 10M-row load spills to disk
        # instead of growing with the export.
        with duckdb.connect(
            str(staging.path("scratch.duckdb")),
            config={"memory_limit": MEMORY_LIMIT, "temp_directory": str(staging.path("spill"))},
        ) as con:
            for seq, file in enumerate(files):
                load = _FileLoad(staging, seq, file, extracted_at)
                loads.append(load)
                scan = FileScan()
                try:
                    for batch in scan_usage_file(con, file.path, scan):
                        load.add_batch(batch)
                    load.add_malformed(scan)
                finally:
                    load.close()
                _note_headers(report, file, scan)
                if on_file:
                    on_file(file, load.rows_read)
            report.merge = merge_into_lake(
                con, TABLE, lake, [load.valid_path for load in loads], _LATEST_FIRST
            )
        for load in loads:
            publish_quarantine(TABLE, lake, load.file.source_key, load.staged_quarantine)
            report.rows_read += load.rows_read
            report.rows_valid += load.rows_valid
            report.rows_quarantined += load.rows_quarantined
            report.unknown_statuses += load.unknown_statuses
    finally:
        staging.cleanup()
    return report


def _note_headers(report: UsageLoadReport, file: UsageFile, scan: FileScan) -> None:
    if scan.ignored_headers:
        report.notes.append(f"{file.source}: ignored unknown columns {', '.join(scan.ignored_headers)}")
    if scan.missing_headers:
        report.notes.append(f"{file.source}: columns absent, read as null: {', '.join(scan.missing_headers)}")
