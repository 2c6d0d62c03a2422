"""Land CircleCI usage export files: read, check, write each row once, publish into the lake.

Used alike by the API asset (files it downloaded) and by `ciwatch-etl load-usage` (files a
person downloaded). Every file's header is checked before any row is read, and nothing reaches
the lake until every file of the load has been read: a file that is not a usage export, or that
cannot be read, stops the load with its name and the lake stays as it was.

Counts add up: every record read (well-formed or not) is landed or quarantined; flagged rows are
landed rows that broke a quality rule; landed rows are new, changed, unchanged against the lake,
or superseded by a later row of the same job in this load.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl

from ciwatch_etl.landing.background import Drained
from ciwatch_etl.landing.day_partitions import DayPartitionWriter
from ciwatch_etl.landing.lake import MergeReport, Staging, publish_quarantine
from ciwatch_etl.landing.quarantine_file import QuarantineFile
from ciwatch_etl.landing.tables import CIRCLECI_USAGE_JOBS
from ciwatch_etl.landing.usage_csv import FileScan, UsageFileReader, read_header
from ciwatch_etl.landing.usage_publish import Publisher, StagedLoad
from ciwatch_etl.landing.usage_rows import check_rows

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
    rows_read: int = 0  # records read, well-formed or not: landed + quarantined
    rows_landed: int = 0
    rows_quarantined: int = 0
    rows_flagged: int = 0  # landed rows with quality flags
    rows_superseded: int = 0  # landed rows a later row of the same job in this load replaced
    flag_rules: Counter[str] = field(default_factory=Counter)
    merge: MergeReport = field(default_factory=lambda: MergeReport((), 0, 0, 0))
    notes: list[str] = field(default_factory=list)


class _JobIds:
    """Hashes of every landed job id, to tell cheaply whether a load repeats one."""

    def __init__(self) -> None:
        self._hashes: list[pl.Series] = []

    def add(self, job_ids: pl.Series) -> None:
        self._hashes.append(job_ids.hash(seed=0))

    def maybe_repeated(self) -> bool:
        if not self._hashes:
            return False
        hashes = pl.concat(self._hashes)
        return hashes.n_unique() < hashes.len()


def _malformed_rows(scan: FileScan) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "source_row": [m.record for m in scan.malformed],
            "reason": [f"line {m.line}: {m.reason}" for m in scan.malformed],
            "record": [json.dumps({"line": m.line, "text": m.text}) for m in scan.malformed],
        },
        schema={"source_row": pl.Int64, "reason": pl.String, "record": pl.String},
    )


def _land_file(
    file: UsageFile, report: UsageLoadReport, days: Drained[pl.DataFrame], quarantine: QuarantineFile,
    job_ids: _JobIds, extracted_at: datetime,
) -> int:
    reader = UsageFileReader(file.path)
    read = 0
    for batch in reader:
        checked = check_rows(batch.frame, file.source, extracted_at, batch.newline_marks)
        days.put(checked.valid)
        quarantine.add(checked.quarantine)
        job_ids.add(checked.valid.get_column("job_id"))
        read += batch.frame.height
        report.rows_landed += checked.valid.height
        report.rows_flagged += checked.flagged
        report.flag_rules += checked.flag_rules
    quarantine.add(_malformed_rows(reader.scan))
    read += len(reader.scan.malformed)
    _note(report, file, reader.scan)
    return read


def land_usage_files(
    lake: Path,
    files: Sequence[UsageFile],
    extracted_at: datetime,
    on_file: Callable[[UsageFile, int], None] | None = None,
) -> UsageLoadReport:
    """Land usage files into `lake` (later files win over earlier ones for the same job id).

    `extracted_at` is a naive UTC timestamp; `on_file(file, records)` reports progress.
    """
    for file in files:
        read_header(file.path)
    report = UsageLoadReport(files=len(files))
    staging = Staging(lake)
    days = DayPartitionWriter(staging.path("days"), TABLE.partition_column)
    # Reading runs a batch ahead (usage_csv), writing a batch behind: three stages side by side.
    writing = Drained(days.add)
    job_ids = _JobIds()
    quarantines: list[QuarantineFile] = []
    try:
        for seq, file in enumerate(files):
            quarantine = QuarantineFile(staging.path(f"quarantine-{seq:05d}.parquet"), TABLE.name, file.source,
                                        extracted_at)
            quarantines.append(quarantine)
            read = _land_file(file, report, writing, quarantine, job_ids, extracted_at)
            quarantine.close()
            report.rows_read += read
            report.rows_quarantined += quarantine.rows
            if on_file:
                on_file(file, read)
        writing.close()
        load = StagedLoad(days.close(), days.rows, [f.source for f in files], job_ids.maybe_repeated())
        # A file-backed scratch database with a memory cap: merging big days spills to disk.
        with duckdb.connect(
            str(staging.path("scratch.duckdb")),
            config={"memory_limit": MEMORY_LIMIT, "temp_directory": str(staging.path("spill"))},
        ) as con:
            publisher = Publisher(con, TABLE, lake, load)
            report.merge = publisher.publish()
            report.rows_superseded = publisher.superseded
        for file, quarantine in zip(files, quarantines, strict=True):
            publish_quarantine(TABLE, lake, file.source_key, quarantine.path if quarantine.rows else None)
    finally:
        writing.abort()
        days.abort()
        staging.cleanup()
    return report


def _note(report: UsageLoadReport, file: UsageFile, scan: FileScan) -> None:
    header = scan.header
    if header and header.extra:
        report.notes.append(f"{file.source}: extra columns kept out of the table: {', '.join(header.extra)}")
    if header and header.absent:
        report.notes.append(f"{file.source}: columns absent, read as null: {', '.join(header.absent)}")
    if scan.blank_lines:
        report.notes.append(f"{file.source}: {scan.blank_lines} blank line(s) skipped")
