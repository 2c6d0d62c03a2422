"""Model columns as their readers should get them: counts as BIGINT, never HUGEINT or DOUBLE.

DuckDB counts with `count_if` and sums integers as HUGEINT. Parquet has no 128-bit integer, so
an incremental model's stored files held such a column as DOUBLE (an analyst read `12.0` runs),
and pandas or Arrow read a HUGEINT table column as floats too. Every model's HUGEINT column is
cast to BIGINT when it is stored: no count reaches 2^63, and a sum that did would stop the build
with the model's name, not lose digits.
"""

from __future__ import annotations

import duckdb

from ciwatch_etl.warehouse.quoting import quote_identifier


def stored_select(con: duckdb.DuckDBPyConnection, sql: str) -> str:
    """`select * from (sql)`, with each HUGEINT column cast to BIGINT (binds `sql` to see its types)."""
    columns = con.execute(f"select column_name, column_type from (describe select * from (\n{sql}\n))").fetchall()
    casts = [
        f"cast({quote_identifier(name)} as bigint) as {quote_identifier(name)}"
        for name, kind in columns if kind == "HUGEINT"
    ]
    replace = f" replace ({', '.join(casts)})" if casts else ""
    return f"select *{replace} from (\n{sql}\n)"
