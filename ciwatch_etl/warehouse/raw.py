"""The `raw` schema of a warehouse being built: views over the lake's Parquet files, no copy.

Each raw table is a view over the files the build saw (listed by name, so the warehouse shows
the lake as it was built from), typed with the column types declared in `landing.tables`: an
empty lake still gives an empty, typed view, and a file written by an older loader (columns in
another order, extra columns, columns it did not have yet) still reads. A partition replaced
after the build is read as it is now; a partition added after it shows from the next build on.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import pyarrow.parquet as pq

from ciwatch_etl.schemas.raw_table import QUARANTINE_COLUMN_DOCS
from ciwatch_etl.landing.tables import QUARANTINE_COLUMNS, RAW_TABLES
from ciwatch_etl.warehouse.lake_files import QUARANTINE, LakeFile
from ciwatch_etl.warehouse.quoting import quote_identifier, quote_literal, quote_table, run_in_one_transaction

RAW_SCHEMA = "raw"
QUARANTINE_TABLE = QUARANTINE
QUARANTINE_DESCRIPTION = (
    "One row per rejected source row, from every raw table: the reason, the source file and row, "
    "and the row as read (JSON). Rows land here instead of being dropped."
)


def create_raw_views(con: duckdb.DuckDBPyConnection, files: Sequence[LakeFile]) -> dict[str, int]:
    """Create `raw.*` over `files`; returns the row count of each raw table and of the quarantine."""
    con.execute(f"create schema {quote_identifier(RAW_SCHEMA)}")
    tables = [(t.name, t.columns, t.description, t.column_doc, t.partition_column) for t in RAW_TABLES.values()]
    quarantine_docs = dict(QUARANTINE_COLUMN_DOCS)
    tables.append((QUARANTINE_TABLE, QUARANTINE_COLUMNS, QUARANTINE_DESCRIPTION, quarantine_docs.__getitem__, None))
    row_counts = {}
    for name, columns, description, column_doc, partition_column in tables:
        paths = [f.path for f in files if f.table == name]
        view = quote_table(RAW_SCHEMA, name)
        run_in_one_transaction(con, [
            f"create view {view} as {typed_parquet_select(con, columns, paths, partition_column)}",
            f"comment on view {view} is {quote_literal(description)}",
            *(f"comment on column {view}.{quote_identifier(c)} is {quote_literal(column_doc(c))}" for c, _ in columns),
        ])
        (row_counts[name],) = con.execute(f"select count(*) from {view}").fetchone()
    return row_counts


def typed_parquet_select(
    con: duckdb.DuckDBPyConnection,
    columns: Sequence[tuple[str, str]],
    paths: Sequence[str],
    partition_column: str | None = None,
) -> str:
    """A SELECT of `columns` (name, DuckDB type) from the Parquet `paths`, or an empty typed one.

    A column no file has (files landed before the column existed) reads as null. Files with the
    same columns in the same order are read as one scan, and the scans of files laid out
    differently (an older loader's) are put together by name: matching every file's columns by
    name (`union_by_name`) would open every footer each time a query reading the view is
    planned, and a nightly build plans a hundred of them over a year of day files.
    """
    if not paths:
        nulls = ", ".join(f"cast(null as {type_}) as {quote_identifier(name)}" for name, type_ in columns)
        return f"select {nulls} where false"
    return "\nunion all\n".join(
        _typed_scan(con, columns, group, partition_column) for group in _same_layout_groups(paths)
    )


def _same_layout_groups(paths: Sequence[str]) -> list[list[str]]:
    """`paths` grouped by their columns' names, types and order."""
    groups: dict[tuple[tuple[str, str], ...], list[str]] = {}
    for path in paths:
        layout = tuple((field.name, str(field.type)) for field in pq.read_schema(path))
        groups.setdefault(layout, []).append(path)
    return list(groups.values())


def _typed_scan(
    con: duckdb.DuckDBPyConnection, columns: Sequence[tuple[str, str]], paths: Sequence[str],
    partition_column: str | None,
) -> str:
    listed = ", ".join(quote_literal(p) for p in paths)
    # A day partition's folder (`job_run_date=2026-12-01`) names the day its file's rows hold: read
    # as a hive partition, a filter on that column skips the other days' files before opening them
    # (a year of day files cost each nightly query ~20 ms of footers otherwise). Other folders in
    # the path are not partitions.
    hive = "hive_partitioning = false"
    if partition_column is not None:
        hive = f"hive_partitioning = true, hive_types = {{{quote_literal(partition_column)}: 'DATE'}}"
    source = f"read_parquet([{listed}], {hive})"
    present = {name for (name,) in con.execute(f"select column_name from (describe select * from {source})").fetchall()}
    casts = ", ".join(
        f"cast({quote_identifier(name) if name in present else 'null'} as {type_}) as {quote_identifier(name)}"
        for name, type_ in columns
    )
    return f"select {casts} from {source}"
