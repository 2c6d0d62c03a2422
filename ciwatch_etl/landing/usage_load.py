"""Land CircleCI usage export files: read, check, write each row once, publish into the lake.

Used alike by the API asset (files it downloaded) and by `ciwatch-etl load-usage` (files a
person downloaded). Every file's header is checked before any row is read, and nothing reaches
the lake until every file of the load has been read: a file that is not a usage export, or that
cannot be read, stops the load with its name and the lake stays as it was.

Rows are checked in batches: a big file's chunk by itself, the rows of small files together
(the checks cost some 50 ms a call whatever the rows, which made a folder of thousands of
one-row files take minutes).

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
import pyarrow

from ciwatch_etl.crash_points import crash_point
from ciwatch_etl.landing.background import Drained
from ciwatch_etl.landing.day_partitions import DayPartitionWriter
from ciwatch_etl.landing.lake import MergeReport, Staging, publish_quarantine
from ciwatch_etl.landing.quarantine_file import QuarantineFile
from ciwatch_etl.landing.tables import CIRCLECI_USAGE_JOBS
from ciwatch_etl.landing.usage_csv import FileScan, RawBatch, UsageFileReader, read_header
from ciwatch_etl.landing.usage_publish import Publisher, StagedLoad
from ciwatch_etl.landing.usage_rows import CheckedRows, check_rows

TABLE = CIRCLECI_USAGE_JOBS
MEMORY_LIMIT = "1GB"
SMALL_BATCH_ROWS = 20_000  # batches smaller than this are checked together with others


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


class _Checker:
    """Checks raw batches and hands on what they give: valid rows to the day files, rejected
    ones to their file's quarantine, counts to the report. Small batches wait to be checked
    together (in file order, each row naming its file), until SMALL_BATCH_ROWS or `flush`."""

    def __init__(self, report: UsageLoadReport, days: Drained[pl.DataFrame], job_ids: _JobIds,
                 extracted_at: datetime):
        self.report = report
        self.days = days
        self.job_ids = job_ids
        self.extracted_at = extracted_at
        self.quarantines: list[QuarantineFile] = []  # by file sequence number
        self._pending: list[pl.DataFrame] = []
        self._pending_rows = 0
        self._pending_marks = False

    def add(self, batch: RawBatch, file: UsageFile, seq: int) -> None:
        if batch.frame.height >= SMALL_BATCH_ROWS:
            self.flush()  # rows reach the day files in file order
            self._take(check_rows(batch.frame, file.source, self.extracted_at, batch.newline_marks), seq)
            return
        if self._pending and batch.newline_marks != self._pending_marks:
            self.flush()
        self._pending.append(batch.frame.with_columns(
            pl.lit(file.source).alias("_source_file"), pl.lit(seq, dtype=pl.Int64).alias("_file")
        ))
        self._pending_rows += batch.frame.height
        self._pending_marks = batch.newline_marks
        if self._pending_rows >= SMALL_BATCH_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self._pending:
            return
        # Columns a file typed while parsing and another left as text meet as text (typed again).
        frame = pl.concat(self._pending, how="diagonal_relaxed")
        self._pending, self._pending_rows = [], 0
        checked = check_rows(frame, None, self.extracted_at, self._pending_marks)
        self._take(checked, None)

    def _take(self, checked: CheckedRows, seq: int | None) -> None:
        self.days.put(checked.valid)
        self.job_ids.add(checked.valid.get_column("job_id"))
        self.report.rows_landed += checked.valid.height
        self.report.rows_flagged += checked.flagged
        self.report.flag_rules += checked.flag_rules
        if seq is not None:
            self.quarantines[seq].add(checked.quarantine)
            return
        for (file_seq,), rows in checked.quarantine.group_by("_file", maintain_order=True):
            self.quarantines[file_seq].add(rows.drop("_file"))


def _land_file(file: UsageFile, seq: int, report: UsageLoadReport, checker: _Checker) -> int:
    reader = UsageFileReader(file.path)
    read = 0
    for batch in reader:
        checker.add(batch, file, seq)
        read += batch.frame.height
    checker.quarantines[seq].add(_malformed_rows(reader.scan))
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
    checker = _Checker(report, writing, job_ids, extracted_at)
    quarantines = checker.quarantines
    try:
        for seq, file in enumerate(files):
            quarantines.append(QuarantineFile(staging.path(f"quarantine-{seq:05d}.parquet"), TABLE.name,
                                              file.source, extracted_at))
            read = _land_file(file, seq, report, checker)
            report.rows_read += read
            if on_file:
                on_file(file, read)
        checker.flush()
        for quarantine in quarantines:
            quarantine.close()
            report.rows_quarantined += quarantine.rows
        writing.close()
        load = StagedLoad(days.close(), days.rows, [f.source for f in files], job_ids.maybe_repeated())
        crash_point("usage.staged")
        # A file-backed scratch database with a memory cap: merging big days spills to disk.
        with duckdb.connect(
            str(staging.path("scratch.duckdb")),
            config={"memory_limit": MEMORY_LIMIT, "temp_directory": str(staging.path("spill"))},
        ) as con:
            publisher = Publisher(con, TABLE, lake, load, staging.root)
            report.merge = publisher.publish()
            report.rows_superseded = publisher.superseded
        crash_point("usage.days_published")
        for file, quarantine in zip(files, quarantines, strict=True):
            publish_quarantine(TABLE, lake, file.source_key, quarantine.path if quarantine.rows else None)
        crash_point("usage.landed")
    finally:
        writing.abort()
        days.abort()
        staging.cleanup()
        # Reading and typing leave Arrow buffers cached; what runs next (a year's warehouse build,
        # in this process) needs that memory: a year's load-usage peaked ~90 MiB lower with this.
        pyarrow.default_memory_pool().release_unused()
    return report


def _note(report: UsageLoadReport, file: UsageFile, scan: FileScan) -> None:
    header = scan.header
    if header and header.extra:
        report.notes.append(f"{file.source}: extra columns kept out of the table: {', '.join(header.extra)}")
    if header and header.absent:
        report.notes.append(f"{file.source}: columns absent, read as null: {', '.join(header.absent)}")
    if scan.blank_lines:
        report.notes.append(f"{file.source}: {scan.blank_lines} blank line(s) skipped")
