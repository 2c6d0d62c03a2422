"""Fill the `raw` schema of a warehouse being built: lake tables and quarantine.

Each raw table is created with the column types declared in `landing.tables`, then filled from
the lake's Parquet files with explicit casts, so an empty lake still gives an empty, typed table
and a file written by an older loader (columns in another order, extra columns) still loads.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from ciwatch_etl.landing.tables import QUARANTINE_COLUMNS, RAW_TABLES
from ciwatch_etl.warehouse.quoting import quote_identifier, quote_literal, quote_table

RAW_SCHEMA = "raw"
QUARANTINE_TABLE = "quarantine"
QUARANTINE_DESCRIPTION = (
    "One row per rejected source row, from every raw table: the reason, the source file and row, "
    "and the row as read (JSON). Rows land here instead of being dropped."
)


class RawLoadError(RuntimeError):
    """The lake's files could not be read into the raw schema."""


def load_raw_schema(con: duckdb.DuckDBPyConnection, lake: Path) -> dict[str, int]:
    """Create and fill `raw.*`; returns the row count of each raw table."""
    con.execute(f"create schema {quote_identifier(RAW_SCHEMA)}")
    row_counts = {}
    for table in RAW_TABLES.values():
        files = sorted(table.directory(lake).glob("*=*/data.parquet"))
        row_counts[table.name] = _load_table(con, table.name, table.columns, files, table.description)
    quarantine_files = sorted((lake / "_quarantine").glob("*/*.parquet"))
    row_counts[QUARANTINE_TABLE] = _load_table(
        con, QUARANTINE_TABLE, QUARANTINE_COLUMNS, quarantine_files, QUARANTINE_DESCRIPTION
    )
    return row_counts


def _load_table(
    con: duckdb.DuckDBPyConnection,
    name: str,
    columns: tuple[tuple[str, str], ...],
    files: list[Path],
    description: str,
) -> int:
    target = quote_table(RAW_SCHEMA, name)
    ddl = ", ".join(f"{quote_identifier(column)} {type_}" for column, type_ in columns)
    con.execute(f"create table {target} ({ddl})")
    con.execute(f"comment on table {target} is {quote_literal(description)}")
    if files:
        names = ", ".join(quote_identifier(column) for column, _ in columns)
        casts = ", ".join(
            f"cast({quote_identifier(column)} as {type_}) as {quote_identifier(column)}"
            for column, type_ in columns
        )
        # Partition values live in the files themselves; folder names are only for people.
        try:
            con.execute(
                f"insert into {target} ({names}) select {casts} "
                "from read_parquet(?, union_by_name = true, hive_partitioning = false)",
                [[str(f) for f in files]],
            )
        except duckdb.Error as error:
            raise RawLoadError(f"cannot load raw.{name} from {len(files)} lake file(s): {error}") from error
    (count,) = con.execute(f"select count(*) from {target}").fetchone()
    return count
