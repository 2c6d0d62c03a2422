"""Write the rows of one load once, straight into one staged Parquet file per day partition.

Rows arrive in batches covering any days in any order. Each day's rows wait in memory until
they make a full row group, or until the batches waiting reach MAX_PENDING_BYTES (then every day
is written), and are appended to that day's staged file as a row group. The staged file is later
renamed into the lake as it is when the day has no partition yet, so in the common case every
row is written exactly once. Days spread thin over a file (365 days interleaved) get small row
groups: memory stays flat, at some cost in speed. Batches out of day order are sorted together,
SORT_BYTES at a time, so each day comes in one run per SORT_BYTES rather than one per batch.
"""

from __future__ import annotations

from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

ROW_GROUP_ROWS = 122_880  # DuckDB's own row group size, so the lake reads alike
MAX_PENDING_BYTES = 256 << 20  # rows held back across all days before all are written
SORT_BYTES = 64 << 20  # rows out of day order are sorted this much at a time
MAX_OPEN_FILES = 1024  # a load spanning more days closes the least recently written day's file
COMBINE_BELOW_ROWS = 8192  # average rows per slice under which a day's slices are combined
WRITE_THREADS = 2
PAGE_BYTES = 64 << 10


class DayPartitionWriter:
    """Staged Parquet files of one table, by day (`YYYY-MM-DD`), flat under `root`."""

    def __init__(self, root: Path, partition_column: str):
        self.root = root
        self.partition_column = partition_column
        self.files: dict[str, list[Path]] = {}
        self.rows: dict[str, int] = {}
        self._pending: dict[str, list[pa.RecordBatch]] = {}
        self._pending_rows: dict[str, int] = {}
        self._pending_bytes = 0
        self._unsorted: list[pl.DataFrame] = []
        self._unsorted_bytes = 0
        self._schema: pa.Schema | None = None
        self._open: OrderedDict[str, _DayFile] = OrderedDict()
        root.mkdir(parents=True, exist_ok=True)

    def add(self, frame: pl.DataFrame) -> None:
        """Queue `frame`'s rows (typed table columns) under their days."""
        if not frame.height:
            return
        if frame.get_column(self.partition_column).is_sorted():
            self._queue_sorted(frame)
            return
        # Rows out of day order wait for others, to be sorted SORT_BYTES at a time: a day's rows
        # then come in a few long runs, not one short slice per batch (365 days spread over a
        # batch made 365 slices of it, each an object per column to make, write and free).
        self._unsorted.append(frame)
        self._unsorted_bytes += frame.estimated_size()
        if self._unsorted_bytes >= SORT_BYTES:
            self._sort_unsorted()

    def _sort_unsorted(self) -> None:
        if not self._unsorted:
            return
        # stable: file order within a day
        frame = pl.concat(self._unsorted, rechunk=False).sort(self.partition_column, maintain_order=True)
        self._unsorted, self._unsorted_bytes = [], 0
        self._queue_sorted(frame)

    def _queue_sorted(self, frame: pl.DataFrame) -> None:
        # One record batch, sliced per day (a batch's slice is one object, a table's one per
        # column: three times the cost).
        runs = frame.get_column(self.partition_column).rle()
        # polars exports large strings: written as they are (the files carry no Arrow schema,
        # so readers see plain strings), no cast.
        batch = frame.to_arrow().combine_chunks().to_batches()[0]
        self._schema = self._schema or batch.schema
        if batch.schema != self._schema:
            batch = batch.cast(self._schema)
        self._pending_bytes += batch.nbytes
        offset = 0
        for length, day in runs.struct.unnest().iter_rows():
            key = day.isoformat()
            self._pending.setdefault(key, []).append(batch.slice(offset, length))
            self._pending_rows[key] = self._pending_rows.get(key, 0) + length
            self.rows[key] = self.rows.get(key, 0) + length
            offset += length
            if self._pending_rows[key] >= ROW_GROUP_ROWS:
                self._flush(key)
        # Slices keep their whole batch alive: past the cap, write every day, freeing them all.
        if self._pending_bytes > MAX_PENDING_BYTES:
            self._flush_all()

    def close(self) -> dict[str, list[Path]]:
        """Write what is pending, close every file; the staged files by day."""
        self._sort_unsorted()
        self._flush_all()
        self._close_files()
        return self.files

    def _flush_all(self) -> None:
        """Write every pending day, WRITE_THREADS days at a time (the Parquet writer runs
        outside the GIL; a day's file is opened by its first write, in a write thread), each
        day's file chosen first, here, as the open-file limit allows."""
        keys = list(self._pending)
        for start in range(0, len(keys), MAX_OPEN_FILES):
            group = keys[start:start + MAX_OPEN_FILES]
            jobs = [(self._file(key), self._take(key)) for key in group]
            with ThreadPoolExecutor(WRITE_THREADS) as pool:
                for _ in pool.map(_write, jobs):
                    pass
        self._pending_bytes = 0

    def _close_files(self) -> None:
        """Close every open file (writing its footer), WRITE_THREADS at a time."""
        files, self._open = list(self._open.values()), OrderedDict()
        with ThreadPoolExecutor(WRITE_THREADS) as pool:
            for _ in pool.map(_DayFile.close, files):
                pass

    def abort(self) -> None:
        """Close files after a failure (the staging folder is removed by its owner)."""
        while self._open:
            self._open.popitem(last=False)[1].close()

    def _flush(self, key: str) -> None:
        _write((self._file(key), self._take(key)))

    def _take(self, key: str) -> list[pa.RecordBatch]:
        self._pending_rows.pop(key)
        return self._pending.pop(key)

    def _file(self, key: str) -> _DayFile:
        day_file = self._open.get(key)
        if day_file is not None:
            self._open.move_to_end(key)
            return day_file
        if len(self._open) >= MAX_OPEN_FILES:
            self._open.popitem(last=False)[1].close()
        parts = self.files.setdefault(key, [])
        path = self.root / f"{self.partition_column}={key}.part-{len(parts):04d}.parquet"
        parts.append(path)
        day_file = self._open[key] = _DayFile(path, self._schema)
        return day_file


class _DayFile:
    """One staged file of a day, opened by its first row group."""

    def __init__(self, path: Path, schema: pa.Schema):
        self.path = path
        self.schema = schema
        self.writer: pq.ParquetWriter | None = None

    def write(self, table: pa.Table) -> None:
        if self.writer is None:
            # No Arrow schema in the file: readers see plain Parquet types, as in DuckDB's files.
            # snappy: zstd would halve the files but costs twice as much on small row groups. No
            # dictionaries and small pages: an open writer keeps its encoders' memory (about 1 MiB
            # each with dictionaries), and a load of a year keeps 365 open; files are 30% larger.
            self.writer = pq.ParquetWriter(
                self.path,
                self.schema,
                compression="snappy",
                store_schema=False,
                use_dictionary=False,
                data_page_size=PAGE_BYTES,
                # Min/max of text prune nothing a reader asks for, and cost time and memory per
                # row group (the writer keeps every row group's metadata until the file closes).
                write_statistics=[f.name for f in self.schema if not pa.types.is_large_string(f.type)],
            )
        self.writer.write_table(table, row_group_size=max(table.num_rows, 1))

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def _write(job: tuple[_DayFile, list[pa.RecordBatch]]) -> None:
    """Append a day's pending slices to its file as one row group."""
    day_file, slices = job
    # The Parquet writer pays per slice and column: many small slices are cheaper copied into
    # one first (rows of days spread thin over the batches).
    if len(slices) > 1 and sum(s.num_rows for s in slices) < len(slices) * COMBINE_BELOW_ROWS:
        slices = [pa.concat_batches(slices)]
    day_file.write(pa.Table.from_batches(slices))
