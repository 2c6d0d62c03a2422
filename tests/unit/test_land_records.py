"""Landing typed API records: validation, quarantine, append-and-update by key, idempotency."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb
import pandera.polars as pa
import polars as pl

from ciwatch_etl.schemas.raw_table import RawTable
from ciwatch_etl.landing.records import SourceBatch, land_batches
from ciwatch_etl.landing.staged import Source
from ciwatch_etl.schemas.circleci_usage_columns import LOAD_COLUMNS
from ciwatch_etl.warehouse import lake_files
from ciwatch_etl.warehouse.lake_files import EVERY_DAY, changed_days, list_lake_files

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


def test_batches_validated_together_quarantine_each_row_under_its_own_batch(tmp_path: Path):
    """All batches go through pandera in one pass; each failure must still find its batch and row."""
    lake = tmp_path / "lake"
    day = date(2026, 1, 1)
    batches = [
        _batch([("a", day, 1.0), ("b", day, -1.0), ("c", day, 2.0)], 1),  # row 2 bad
        _batch([], 2),  # an empty page in between
        _batch([("d", day, -2.0), ("e", day, 3.0), ("f", day, -3.0)], 3),  # rows 1 and 3 bad
    ]
    report = land_batches(lake, TABLE, SCHEMA, batches, datetime(2026, 1, 3))
    assert (report.rows_read, report.rows_valid, report.rows_quarantined) == (6, 3, 3)
    quarantine = duckdb.sql(
        f"select source_file, source_row, json_extract_string(record, '$.run_id') "
        f"from read_parquet('{lake}/_quarantine/demo_runs/*.parquet') order by all"
    ).fetchall()
    assert quarantine == [("GET /runs page 1", 2, "b"), ("GET /runs page 3", 1, "d"), ("GET /runs page 3", 3, "f")]
    assert [r[0] for r in _rows(lake)] == ["a", "c", "e"]


def test_a_partition_whose_rows_all_came_again_unchanged_keeps_its_file(tmp_path: Path):
    lake = tmp_path / "lake"
    rows = [("a", date(2026, 1, 1), 10.0), ("b", date(2026, 1, 2), 20.0)]
    land_batches(lake, TABLE, SCHEMA, [_batch(rows, 1)], datetime(2026, 1, 3))
    files = {day: TABLE.partition_file(lake, day) for day in ("2026-01-01", "2026-01-02")}
    before = {day: path.stat().st_mtime_ns for day, path in files.items()}
    # The next pull returns both runs again, "b" with a longer duration.
    report = land_batches(lake, TABLE, SCHEMA, [_batch([rows[0], ("b", date(2026, 1, 2), 25.0)], 1)],
                          datetime(2026, 1, 4))
    assert report.merge.partitions == ("2026-01-02",)
    assert files["2026-01-01"].stat().st_mtime_ns == before["2026-01-01"]
    assert files["2026-01-02"].stat().st_mtime_ns != before["2026-01-02"]
    assert _rows(lake) == [("a", date(2026, 1, 1), 10.0), ("b", date(2026, 1, 2), 25.0)]


DIMENSION = RawTable(
    name="demo_repos",
    lake_path="demo/repos",
    partition_column=None,
    key=("repo_id",),
    columns=(("repo_id", "varchar"), ("default_branch", "varchar")) + LOAD_COLUMNS,
    description="One row per demo repository.",
)
DIMENSION_SCHEMA = pa.DataFrameSchema(
    {"repo_id": pa.Column(pl.String, nullable=False), "default_branch": pa.Column(pl.String, nullable=True)},
    name="demo_repos",
)


def _repos(rows: list[tuple]) -> list[SourceBatch]:
    frame = pl.DataFrame(rows, schema={"repo_id": pl.String, "default_branch": pl.String}, orient="row")
    return [SourceBatch(frame, Source("GET /repos", "repos"))]


def test_a_dimension_is_one_file_written_only_when_a_row_changes(tmp_path: Path, monkeypatch):
    monkeypatch.setitem(lake_files.RAW_TABLES, DIMENSION.name, DIMENSION)
    lake = tmp_path / "lake"
    report = land_batches(lake, DIMENSION, DIMENSION_SCHEMA, _repos([("r1", "main"), ("r2", "master")]),
                          datetime(2026, 1, 3))
    assert report.merge.partitions == ("all",)
    assert DIMENSION.data_files(lake) == [lake / "demo/repos/data.parquet"]
    written = DIMENSION.partition_file(lake, None).stat().st_mtime_ns
    files = list_lake_files(lake)
    assert [(f.table, f.partition) for f in files] == [("demo_repos", EVERY_DAY)]

    again = land_batches(lake, DIMENSION, DIMENSION_SCHEMA, _repos([("r1", "main")]), datetime(2026, 1, 4))
    assert (again.merge.partitions, again.merge.rows_unchanged) == ((), 1)
    assert DIMENSION.partition_file(lake, None).stat().st_mtime_ns == written
    assert changed_days(files, list_lake_files(lake)) == {}

    renamed = land_batches(lake, DIMENSION, DIMENSION_SCHEMA, _repos([("r1", "trunk")]), datetime(2026, 1, 5))
    assert (renamed.merge.partitions, renamed.merge.rows_changed) == (("all",), 1)
    assert changed_days(files, list_lake_files(lake)) == {"demo_repos": EVERY_DAY}
    rows = duckdb.sql(f"select repo_id, default_branch from '{lake}/demo/repos/data.parquet' order by 1").fetchall()
    assert rows == [("r1", "trunk"), ("r2", "master")]  # r2, not pulled again, stays as it was
