"""Hand-written raw rows written as the lake's day partitions (or a dimension's one file), as the
loaders write them."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ciwatch_etl.landing.lake import arrow_schema
from ciwatch_etl.schemas.raw_table import RawTable


def write_rows(lake: Path, table: RawTable, rows: list[dict[str, object]]) -> None:
    """Rows as the lake's day partitions of `table` (a dimension: its file), every other column null."""
    by_day: dict[object, list[dict[str, object]]] = defaultdict(list)
    for row in rows:
        day = row[table.partition_column] if table.partition_column else None
        by_day[day].append({name: row.get(name) for name, _ in table.columns})
    for day, day_rows in by_day.items():
        target = table.partition_file(lake, day.isoformat() if day else None)
        target.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pylist(day_rows, schema=arrow_schema(table.columns)), target)
