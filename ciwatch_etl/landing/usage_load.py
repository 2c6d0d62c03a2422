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

from ciwatch_etl.landing.lake import (
    MergeReport,
    Staging,
    merge_into_lake,
    publish_quarantine,
)
from ciwatch_etl.landing.staged import LATEST_FIRST, Source, StagedSource
from ciwatch_etl.landing.tables import CIRCLECI_USAGE_JOBS
from ciwatch_etl.landing.usage_csv import FileScan, scan_usage_file
from ciwatch_etl.schemas.circleci_usage import validate_usage_batch

TABLE = CIRCLECI_USAGE_JOBS
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


def _quarantine_malformed(staged: StagedSource, scan: FileScan) -> None:
    if scan.malformed:
        staged.add_quarantine(
            pl.DataFrame(
                {
                    "source_row": [m.line for m in scan.malformed],
                    "reason": [m.reason for m in scan.malformed],
                    "record": [json.dumps({"line": m.text}) for m in scan.malformed],
                },
                schema={"source_row": pl.Int64, "reason": pl.String, "record": pl.String},
            )
        )


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
    loads: list[StagedSource] = []
    try:
        # A file-backed scratch database with a memory cap: a 10M-row load spills to disk
        # instead of growing with the export.
        with duckdb.connect(
            str(staging.path("scratch.duckdb")),
            config={"memory_limit": MEMORY_LIMIT, "temp_directory": str(staging.path("spill"))},
        ) as con:
            for seq, file in enumerate(files):
                source = Source(file.source, file.source_key)
                load = StagedSource(staging, TABLE, seq, source, extracted_at, validate_usage_batch)
                loads.append(load)
                scan = FileScan()
                try:
                    for batch in scan_usage_file(con, file.path, scan):
                        load.add_batch(pl.from_arrow(batch))
                    _quarantine_malformed(load, scan)
                finally:
                    load.close()
                _note_headers(report, file, scan)
                if on_file:
                    on_file(file, load.rows_read)
            report.merge = merge_into_lake(
                con, TABLE, lake, [load.valid_path for load in loads], LATEST_FIRST
            )
        for load in loads:
            publish_quarantine(TABLE, lake, load.source.key, load.staged_quarantine)
            report.rows_read += load.rows_read
            report.rows_valid += load.rows_valid
            report.rows_quarantined += load.rows_quarantined
            report.unknown_statuses += load.rows_flagged
    finally:
        staging.cleanup()
    return report


def _note_headers(report: UsageLoadReport, file: UsageFile, scan: FileScan) -> None:
    if scan.ignored_headers:
        report.notes.append(f"{file.source}: ignored unknown columns {', '.join(scan.ignored_headers)}")
    if scan.missing_headers:
        report.notes.append(f"{file.source}: columns absent, read as null: {', '.join(scan.missing_headers)}")
