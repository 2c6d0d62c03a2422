"""Land typed records from an API (pages of JSON turned into polars frames) into the lake.

The JSON sources' counterpart of `usage_load`: each batch names its source (e.g. the request
and page it came from), rows are validated by the table's pandera schema, rejected rows are
quarantined under the batch's source key, and the rest merge into day partitions by the table's
key (append-and-update: rows the API no longer returns stay in the lake as they were).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import pandera.polars as pa
import polars as pl

from ciwatch_etl.crash_points import crash_point
from ciwatch_etl.landing.lake import (
    MergeReport,
    Staging,
    merge_into_lake,
    publish_quarantine,
)
from ciwatch_etl.schemas.raw_table import RawTable
from ciwatch_etl.landing.staged import LATEST_FIRST, Source, StagedSource
from ciwatch_etl.schemas.validation import NO_FAILURES, rule_failures, split_by_failures

MEMORY_LIMIT = "1GB"


@dataclass(frozen=True)
class SourceBatch:
    """Typed rows of one table (its business columns) and where they came from."""

    frame: pl.DataFrame
    source: Source


@dataclass
class RecordLoadReport:
    table: str
    batches: int = 0
    rows_read: int = 0
    rows_valid: int = 0
    rows_quarantined: int = 0
    merge: MergeReport = field(default_factory=lambda: MergeReport((), 0, 0, 0))


def business_columns(table: RawTable) -> list[str]:
    return [name for name, _ in table.columns if not name.startswith("_")]


def with_row_hash(frame: pl.DataFrame, table: RawTable) -> pl.DataFrame:
    """Add `_row_hash` over the business columns: identical rows re-landed change nothing."""
    return frame.with_columns(pl.struct(business_columns(table)).hash(seed=0).cast(pl.String).alias("_row_hash"))


def land_batches(
    lake: Path,
    table: RawTable,
    schema: pa.DataFrameSchema,
    batches: Iterable[SourceBatch],
    extracted_at: datetime,
) -> RecordLoadReport:
    """Validate, stage and merge `batches` into `table` (later batches win for the same key).

    `extracted_at` is a naive UTC timestamp. Nothing reaches the lake until every batch is staged.
    """
    report = RecordLoadReport(table=table.name)
    staging = Staging(lake)
    staged: list[StagedSource] = []
    columns = business_columns(table)
    batches = list(batches)
    failures = _failures_by_batch(schema, [b.frame.select(columns) for b in batches])
    try:
        for seq, batch in enumerate(batches):
            # Values a client could not read travel as `_parse_errors`: they quarantine the row.
            extra = ["_parse_errors"] if "_parse_errors" in batch.frame.columns else []
            frame = with_row_hash(batch.frame.select(columns + extra), table)
            source = StagedSource(
                staging, table, seq, batch.source, extracted_at,
                lambda f, found=failures[seq]: split_by_failures(f, found),
            )
            staged.append(source)
            try:
                if frame.height:
                    source.add_batch(frame)
            finally:
                source.close()
        crash_point("records.staged")
        with duckdb.connect(
            str(staging.path("scratch.duckdb")),
            config={"memory_limit": MEMORY_LIMIT, "temp_directory": str(staging.path("spill"))},
        ) as con:
            report.merge = merge_into_lake(con, table, lake, [s.valid_path for s in staged], LATEST_FIRST)
        for source in staged:
            publish_quarantine(table, lake, source.source.key, source.staged_quarantine)
            report.batches += 1
            report.rows_read += source.rows_read
            report.rows_valid += source.rows_valid
            report.rows_quarantined += source.rows_quarantined
    finally:
        staging.cleanup()
    return report


def _failures_by_batch(schema: pa.DataFrameSchema, frames: list[pl.DataFrame]) -> list[pl.DataFrame]:
    """Each batch's rule failures (`_i` its own row index), from one pandera pass over them all.

    A pass costs about the same for one row as for thousands, and a pull may bring hundreds of
    small batches (one per page, or per repo and day). The schemas check rows one by one, so
    validating the batches together finds exactly what validating each alone would.
    """
    nonempty = [(seq, frame) for seq, frame in enumerate(frames) if frame.height]
    found = [NO_FAILURES] * len(frames)  # an empty batch is never validated
    if not nonempty:
        return found
    combined = pl.concat([frame for _, frame in nonempty], how="vertical_relaxed")
    failures = rule_failures(schema, combined)
    starts = [0]
    for _, frame in nonempty:
        starts.append(starts[-1] + frame.height)
    for (seq, _), start, end in zip(nonempty, starts, starts[1:], strict=False):
        found[seq] = failures.filter(pl.col("_i").is_between(start, end - 1)).with_columns(
            (pl.col("_i") - start).cast(pl.UInt32)
        )
    return found
