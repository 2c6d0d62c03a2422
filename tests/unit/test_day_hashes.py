"""A day's hash is of its rows as stored: rows just computed hash as their Parquet file holds them."""

from pathlib import Path
from types import SimpleNamespace

import duckdb

from ciwatch_etl.warehouse.incremental import ModelState, _day_hashes, _stored_types
from ciwatch_etl.warehouse.materialization import Materialization

MODEL = SimpleNamespace(name="m", sql_path="m.sql",
                        materialization=Materialization("incremental", "day", unique_key=("day",)))


def test_computed_rows_hash_as_their_stored_copy(tmp_path: Path):
    stored = tmp_path / "m.parquet"
    with duckdb.connect() as con:
        # sums of integers are HUGEINT, which Parquet stores as DOUBLE
        con.execute("create table computed as select date '2026-12-01' + (i % 3)::int as day, "
                    "sum(i) as runs, 0.1 * sum(i) as credits from range(100) as t(i) group by all")
        con.execute(f"copy computed to '{stored}' (format parquet)")
        con.execute(f"copy (select * from computed limit 0) to '{tmp_path / 'columns.parquet'}' (format parquet)")
        types = _stored_types(con, ModelState("f", str(tmp_path / "columns.parquet")))
        assert types["runs"] == "DOUBLE"
        as_stored = _day_hashes(con, MODEL, f"read_parquet('{stored}')")
        assert _day_hashes(con, MODEL, "computed", types) == as_stored
        assert _day_hashes(con, MODEL, "computed") != as_stored
