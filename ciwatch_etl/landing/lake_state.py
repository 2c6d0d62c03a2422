"""One reader of what the lake already holds, for the incremental pulls' starting points.

Each raw table is a DuckDB view over its landed Parquet files, typed by its declaration: a table
never landed reads as empty, and a column older files lack reads as null. The `*_state` modules
beside this one ask it their questions (high-water marks, runs still unfinished, projects seen).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from ciwatch_etl.schemas.raw_table import RawTable


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _view(con: duckdb.DuckDBPyConnection, table: RawTable, lake: Path) -> str:
    """The SELECT of `table`'s landed rows, every declared column typed, none missing."""
    files = [str(f) for f in table.data_files(lake)]
    # A view takes no parameters: the file list is spelled out, quotes doubled.
    source = f"read_parquet([{', '.join(map(_literal, files))}], hive_partitioning = false, union_by_name = true)"
    present = (
        {name for (name, *_rest) in con.execute(f"describe select * from {source}").fetchall()} if files else set()
    )
    columns = ", ".join(
        _identifier(name) if name in present else f"cast(null as {type_}) as {_identifier(name)}"
        for name, type_ in table.columns
    )
    return f"select {columns} from {source}" if files else f"select {columns} where false"


@contextmanager
def lake_connection(lake: Path, tables: Mapping[str, RawTable]) -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB connection with each raw table under the name `tables` gives it (`raw.x` makes the
    schema `raw`, so the warehouse's own staging SQL reads it as it reads the warehouse)."""
    with duckdb.connect() as con:
        for name, table in tables.items():
            schema, _, view = name.rpartition(".")
            if schema:
                con.execute(f"create schema if not exists {_identifier(schema)}")
            qualified = f"{_identifier(schema)}.{_identifier(view)}" if schema else _identifier(view)
            con.execute(f"create view {qualified} as {_view(con, table, lake)}")
        yield con


def query_lake(
    lake: Path, tables: Mapping[str, RawTable], sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None
) -> list[tuple]:
    """Rows of `sql` over the lake, each raw table under the name `tables` gives it."""
    with lake_connection(lake, tables) as con:
        return con.execute(sql, params or []).fetchall()
