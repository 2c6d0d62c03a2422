"""Landing typed API records: validation, quarantine, append-and-update by key, idempotency."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb
import pandera.polars as pa
import polars as pl

from ciwatch_etl.landing.raw_table import RawTable
from ciwatch_etl.landing.records import SourceBatch, land_batches
from ciwatch_etl.landing.staged import Source
from ciwatch_etl.schemas.circleci_usage_columns import LOAD_COLUMNS

TABLE = RawTable(
    name="demo_runs",
    lake_path="demo/runs",
    partition_column="created_date",
    key=("run_id",),
    columns=(("run_id", "varchar"), ("created_date", "date"), ("duration_seconds", "double")) + LOAD_COLUMNS,
    description="One row per demo run.",
)
SCHEMA = pa.DataFrameSchema(
    {
        "run_id": pa.Column(pl.String, nullable=False),
        "created_date": pa.Column(pl.Date, nullable=False),
        "duration_seconds": pa.Column(pl.Float64, pa.Check.ge(0), nullable=True),
    },
    name="demo_runs",
)


def _batch(rows: list[tuple], page: int) -> SourceBatch:
    frame = pl.DataFrame(rows, schema={"run_id": pl.String, "created_date": pl.Date, "duration_seconds": pl.Float64},
                         orient="row")
    return SourceBatch(frame, Source(f"GET /runs page {page}", f"runs-page-{page}"))


def _rows(lake: Path, table: str = "demo/runs") -> list[tuple]:
    return duckdb.sql(
        f"select run_id, created_date, duration_seconds from read_parquet('{lake}/{table}/*/*.parquet') order by run_id"
    ).fetchall()


def test_records_land_append_and_update_by_key(tmp_path: Path):
    lake = tmp_path / "lake"
    first = [_batch([("a", date(2026, 1, 1), 10.0), ("b", date(2026, 1, 2), 20.0)], 1)]
    report = land_batches(lake, TABLE, SCHEMA, first, datetime(2026, 1, 3))
    assert (report.rows_valid, report.merge.rows_new) == (2, 2)
    # A later pull no longer returns "a" (it left the API's window) and updates "b".
    second = [_batch([("b", date(2026, 1, 2), 25.0), ("c", date(2026, 1, 3), 5.0)], 1)]
    report = land_batches(lake, TABLE, SCHEMA, second, datetime(2026, 1, 4))
    assert (report.merge.rows_new, report.merge.rows_changed) == (1, 1)
    assert _rows(lake) == [("a", date(2026, 1, 1), 10.0), ("b", date(2026, 1, 2), 25.0), ("c", date(2026, 1, 3), 5.0)]
    again = land_batches(lake, TABLE, SCHEMA, second, datetime(2026, 1, 5))
    assert (again.merge.rows_new, again.merge.rows_changed, again.merge.rows_unchanged) == (0, 0, 2)


def test_bad_records_are_quarantined_with_their_page(tmp_path: Path):
    lake = tmp_path / "lake"
    batches = [_batch([("a", date(2026, 1, 1), 10.0)], 1), _batch([("b", date(2026, 1, 1), -1.0), (None, date(2026, 1, 1), 1.0)], 2)]
    report = land_batches(lake, TABLE, SCHEMA, batches, datetime(2026, 1, 3))
    assert (report.rows_valid, report.rows_quarantined) == (1, 2)
    quarantine = duckdb.sql(
        f"select source_file, source_row, reason from read_parquet('{lake}/_quarantine/demo_runs/*.parquet') order by source_row"
    ).fetchall()
    assert [q[:2] for q in quarantine] == [("GET /runs page 2", 1), ("GET /runs page 2", 2)]
    assert "duration_seconds" in quarantine[0][2] and "run_id" in quarantine[1][2]
    assert _rows(lake) == [("a", date(2026, 1, 1), 10.0)]
