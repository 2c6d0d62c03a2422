"""Write the rows of one load once, straight into one staged Parquet file per day partition.

Rows arrive in batches covering any days in any order. Batches wait in memory, as polars holds
them, until they reach MAX_PENDING_BYTES; then they are sorted by day once (stable: file order
within a day) and each day's rows, one contiguous slice, are appended to that day's staged file
as row groups. The staged file is later renamed into the lake as it is when the day has no
partition yet, so in the common case every row is written exactly once. Days spread thin over
a file (365 days interleaved) get small row groups: memory stays flat, at some cost in speed.
"""

from __future__ import annotations

from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

ROW_GROUP_ROWS = 122_880  # DuckDB's own row group size, so the lake reads alike
# Rows held back across all days before all are written, by polars' estimate. The estimate
# misses the parse buffers the batches' strings still point into: at 256 MiB a load of 1M
# adversarial rows peaked at 1590 MiB RSS, at 96 MiB at 985 MiB (the old writer: 969).
MAX_PENDING_BYTES = 96 << 20
MAX_OPEN_FILES = 1024
WRITE_THREADS = 2
PAGE_BYTES = 64 << 10  # a load spanning more days closes the least recently written day's file


class DayPartitionWriter:
    """Staged Parquet files of one table, by day (`YYYY-MM-DD`), flat under `root`."""

    def __init__(self, root: Path, partition_column: str):
        self.root = root
        self.partition_column = partition_column
        self.files: dict[str, list[Path]] = {}
        self.rows: dict[str, int] = {}
        self._pending: list[pl.DataFrame] = []
        self._pending_bytes = 0
        self._schema: pa.Schema | None = None
        self._open: OrderedDict[str, pq.ParquetWriter] = OrderedDict()
        root.mkdir(parents=True, exist_ok=True)

    def add(self, frame: pl.DataFrame) -> None:
        """Queue `frame`'s rows (typed table columns) under their days."""
        if not frame.height:
            return
        self._pending.append(frame)
        self._pending_bytes += frame.estimated_size()
        if self._pending_bytes > MAX_PENDING_BYTES:
            self._flush()

    def close(self) -> dict[str, list[Path]]:
        """Write what is pending, close every file; the staged files by day."""
        self._flush()
        while self._open:
            self._open.popitem(last=False)[1].close()
        return self.files

    def abort(self) -> None:
        """Close files after a failure (the staging folder is removed by its owner)."""
        while self._open:
            self._open.popitem(last=False)[1].close()

    def _flush(self) -> None:
        """Write every pending row: sorted by day once, each day's slice to its file,
        WRITE_THREADS days at a time (the Parquet writer runs outside the GIL)."""
        if not self._pending:
            return
        frame = pl.concat(self._pending, rechunk=False)
        self._pending, self._pending_bytes = [], 0
        days = frame.get_column(self.partition_column)
        if not days.is_sorted():
            frame = frame.sort(self.partition_column, maintain_order=True)
            days = frame.get_column(self.partition_column)
        runs = days.rle().struct.unnest().rows()
        # String views as polars holds them: no copy, and Parquet stores them as plain strings
        # (the files carry no Arrow schema).
        table = frame.rechunk().to_arrow(compat_level=pl.CompatLevel.newest())
        del frame, days
        self._schema = self._schema or table.schema
        if table.schema != self._schema:
            table = table.cast(self._schema)
        jobs, offset = [], 0
        for length, day in runs:
            key = day.isoformat()
            self.rows[key] = self.rows.get(key, 0) + length
            jobs.append((key, table.slice(offset, length)))
            offset += length
        for start in range(0, len(jobs), MAX_OPEN_FILES):
            group = [(self._writer(key), rows) for key, rows in jobs[start:start + MAX_OPEN_FILES]]
            with ThreadPoolExecutor(WRITE_THREADS) as pool:
                for _ in pool.map(_write, group):
                    pass

    def _writer(self, key: str) -> pq.ParquetWriter:
        """The day's open file, opened here (in order) as the open-file limit allows."""
        writer = self._open.get(key)
        if writer is not None:
            self._open.move_to_end(key)
            return writer
        if len(self._open) >= MAX_OPEN_FILES:
            self._open.popitem(last=False)[1].close()
        parts = self.files.setdefault(key, [])
        path = self.root / f"{self.partition_column}={key}.part-{len(parts):04d}.parquet"
        parts.append(path)
        schema = self._schema
        # snappy: zstd would halve the files but costs twice as much on small row groups. No
        # dictionaries and small pages: an open writer keeps its encoders' memory (about 1 MiB
        # each with dictionaries), and a load of a year keeps 365 open; files are 30% larger.
        writer = self._open[key] = pq.ParquetWriter(
            path,
            schema,
            compression="snappy",
            store_schema=False,
            use_dictionary=False,
            data_page_size=PAGE_BYTES,
            # Min/max of text prune nothing a reader asks for, and cost time and memory per
            # row group (the writer keeps every row group's metadata until the file closes).
            write_statistics=[f.name for f in schema if not _is_text(f.type)],
        )
        return writer


def _write(job: tuple[pq.ParquetWriter, pa.Table]) -> None:
    """Append a day's rows to its file, in row groups of at most ROW_GROUP_ROWS."""
    writer, rows = job
    writer.write_table(rows, row_group_size=ROW_GROUP_ROWS)


def _is_text(kind: pa.DataType) -> bool:
    return pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind)
