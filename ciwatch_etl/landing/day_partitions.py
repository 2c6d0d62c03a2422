"""Write the rows of one load once, straight into one staged Parquet file per day partition.

Rows arrive in batches covering any days in any order. Each day's rows wait in memory until
they make a full row group (or the memory cap is reached, then the largest days go first), and
are appended to that day's staged file. The staged file is later renamed into the lake as it is
when the day has no partition yet, so in the common case every row is written exactly once.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

ROW_GROUP_ROWS = 122_880  # DuckDB's own row group size, so the lake reads alike
MAX_PENDING_BYTES = 192 << 20  # rows held back across all days before the largest are written
MAX_OPEN_FILES = 200  # a load spanning more days closes the least recently written day's file


class DayPartitionWriter:
    """Staged Parquet files of one table, by day (`YYYY-MM-DD`), under `root`."""

    def __init__(self, root: Path, partition_column: str):
        self.root = root
        self.partition_column = partition_column
        self.files: dict[str, list[Path]] = {}
        self.rows: dict[str, int] = {}
        self._pending: dict[str, list[pa.Table]] = {}
        self._pending_rows: dict[str, int] = {}
        self._pending_bytes = 0
        self._open: OrderedDict[str, pq.ParquetWriter] = OrderedDict()

    def add(self, frame: pl.DataFrame) -> None:
        """Queue `frame`'s rows (typed table columns) under their days."""
        if not frame.height:
            return
        for (day,), rows in frame.partition_by(self.partition_column, as_dict=True, maintain_order=True).items():
            key = day.isoformat()
            table = rows.to_arrow()
            self._pending.setdefault(key, []).append(table)
            self._pending_rows[key] = self._pending_rows.get(key, 0) + table.num_rows
            self._pending_bytes += table.nbytes
            self.rows[key] = self.rows.get(key, 0) + table.num_rows
            if self._pending_rows[key] >= ROW_GROUP_ROWS:
                self._flush(key)
        if self._pending_bytes > MAX_PENDING_BYTES:
            for key in sorted(self._pending, key=self._pending_rows.__getitem__, reverse=True):
                self._flush(key)
                if self._pending_bytes <= MAX_PENDING_BYTES // 2:
                    break

    def close(self) -> dict[str, list[Path]]:
        """Write what is pending, close every file; the staged files by day."""
        for key in list(self._pending):
            self._flush(key)
        while self._open:
            self._open.popitem(last=False)[1].close()
        return self.files

    def abort(self) -> None:
        """Close files after a failure (the staging folder is removed by its owner)."""
        while self._open:
            self._open.popitem(last=False)[1].close()

    def _flush(self, key: str) -> None:
        tables = self._pending.pop(key)
        self._pending_rows.pop(key)
        table = pa.concat_tables(tables) if len(tables) > 1 else tables[0]
        self._pending_bytes -= sum(t.nbytes for t in tables)
        self._writer(key, table.schema).write_table(table, row_group_size=max(table.num_rows, 1))

    def _writer(self, key: str, schema: pa.Schema) -> pq.ParquetWriter:
        writer = self._open.get(key)
        if writer is not None:
            self._open.move_to_end(key)
            return writer
        if len(self._open) >= MAX_OPEN_FILES:
            self._open.popitem(last=False)[1].close()
        parts = self.files.setdefault(key, [])
        path = self.root / f"{self.partition_column}={key}" / f"part-{len(parts):04d}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        parts.append(path)
        # No Arrow schema in the file: readers see plain Parquet types, as in DuckDB's files.
        writer = self._open[key] = pq.ParquetWriter(path, schema, compression="snappy", store_schema=False)
        return writer
