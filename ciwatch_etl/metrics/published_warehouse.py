"""Read-only access to the published warehouse for the metrics and the report."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from ciwatch_etl.metrics.request import MetricsError

REBUILD = "ciwatch-etl run --select kind:sql --full-refresh"


@contextmanager
def open_warehouse(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection: it never blocks the nightly build, which publishes a new file."""
    if not path.is_file():
        raise MetricsError("no_warehouse",
                           f"no warehouse at {path}: run `ciwatch-etl demo`, `run` or `load-usage` first")
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as error:
        # Overwritten, truncated, or not a DuckDB file: the lake can rebuild it.
        raise MetricsError("unreadable_warehouse", f"{path} cannot be read ({_one_line(error)}); rebuild it "
                           f"from the lake with `{REBUILD}`") from None
    try:
        yield con
    except duckdb.CatalogException as error:
        # A warehouse built before a mart existed: the models are newer than the file.
        raise MetricsError("stale_warehouse", f"{path} lacks a table this command reads ({error}); rebuild it "
                           "with `ciwatch-etl run --select 'kind:sql'`") from None
    except (duckdb.IOException, duckdb.InvalidInputException) as error:
        # A lake file a view reads is gone or damaged (the error names it).
        raise MetricsError("unreadable_warehouse", f"{path} cannot be read ({_one_line(error)}); rebuild it "
                           f"from the lake with `{REBUILD}`") from None
    finally:
        con.close()


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: dict | None = None) -> list[dict[str, object]]:
    """Each result row as a dict of column name to value."""
    cursor = con.execute(sql, params or {})
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def one(con: duckdb.DuckDBPyConnection, sql: str, params: dict | None = None) -> dict[str, object]:
    (row,) = rows(con, sql, params)
    return row
