"""Compare two published warehouses model by model: same rows, sums of doubles within 1e-9.

Doubles summed in a different order (a full rebuild against an incremental one) may differ in
their last bits, so double columns are compared by their sums, everything else row for row.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import duckdb

from ciwatch_etl.warehouse.models import load_models
from ciwatch_etl.warehouse.quoting import quote_identifier

RELATIVE = 1e-9


def warehouse_differences(a: Path, b: Path, ignore: Collection[str] = ()) -> list[str]:
    """One line per model whose rows differ between the warehouses `a` and `b` (empty: same),
    leaving out the columns named in `ignore` (e.g. when rows were landed)."""
    differences = []
    with duckdb.connect() as con:
        con.execute("attach ? as a (read_only)", [str(a)])
        con.execute("attach ? as b (read_only)", [str(b)])
        for model in load_models():
            differences += _model_differences(con, model.name, ignore)
    return differences


def _model_differences(con: duckdb.DuckDBPyConnection, name: str, ignore: Collection[str]) -> list[str]:
    table = quote_identifier(name)
    columns = con.execute(
        "select column_name, data_type from duckdb_columns() where database_name = 'a' and table_name = ? "
        "order by column_index",
        [name],
    ).fetchall()
    columns = [(c, t) for c, t in columns if c not in ignore]
    exact = [quote_identifier(c) for c, t in columns if t not in ("DOUBLE", "FLOAT")]
    doubles = [quote_identifier(c) for c, t in columns if t in ("DOUBLE", "FLOAT")]
    counts = con.execute(f"select (select count(*) from a.{table}), (select count(*) from b.{table})").fetchone()
    if counts[0] != counts[1]:
        return [f"{name}: {counts[0]} rows against {counts[1]}"]
    differences = []
    if exact:
        keys = ", ".join(exact)
        (unmatched,) = con.execute(
            f"select count(*) from (select {keys} from a.{table} except all select {keys} from b.{table})"
        ).fetchone()
        if unmatched:
            differences.append(f"{name}: {unmatched} rows differ outside double columns")
    for column in doubles:
        left, right = con.execute(
            f"select (select sum({column}) from a.{table}), (select sum({column}) from b.{table})"
        ).fetchone()
        if (left is None) != (right is None) or (
            left is not None and abs(left - right) > RELATIVE * max(abs(left), abs(right), 1.0)
        ):
            differences.append(f"{name}.{column}: sum {left} against {right}")
    return differences
