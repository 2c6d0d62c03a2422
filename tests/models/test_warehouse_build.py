"""Building and publishing the warehouse file: raw schema, comments, atomic publish, open readers."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from cost_month import june_rows
from lake_rows import write_rows

from ciwatch_etl.landing.lake import QUARANTINE_SCHEMA
from ciwatch_etl.landing.tables import (
    CIRCLECI_USAGE_JOBS,
    QUARANTINE_COLUMNS,
    RAW_TABLES,
)
from ciwatch_etl.environment import Paths
from ciwatch_etl.warehouse.build import ModelBuildError, build_warehouse
from ciwatch_etl.warehouse.models import load_models
from ciwatch_etl.warehouse.lake_files import RawLoadError


def query(paths: Paths, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def leftovers(paths: Paths) -> list[str]:
    """Files in the data folder other than the warehouse and the lake: none after any build."""
    kept = (paths.warehouse.name, paths.lake.name)
    return sorted(p.name for p in paths.home.iterdir() if p.name not in kept)


def test_empty_lake_gives_typed_empty_raw_tables_and_settings(ciwatch_home: Path):
    paths = Paths(ciwatch_home)

    report = build_warehouse(paths, 0.0125)

    for table in RAW_TABLES.values():
        columns = query(
            paths,
            "select column_name, lower(data_type) from duckdb_columns() "
            "where schema_name = 'raw' and table_name = ? order by column_index",
            [table.name],
        )
        assert columns == list(table.columns)
        assert query(paths, f"select count(*) from raw.{table.name}") == [(0,)]
    assert query(
        paths,
        "select column_name, lower(data_type) from duckdb_columns() "
        "where schema_name = 'raw' and table_name = 'quarantine' order by column_index",
    ) == list(QUARANTINE_COLUMNS)
    assert query(paths, "select credit_price_usd, built_at from raw.settings") == [(0.0125, report.built_at)]
    assert report.raw_row_counts == {**{name: 0 for name in RAW_TABLES}, "quarantine": 0}
    # Every model reading the lake is empty; the status map is constant data of its own.
    assert {m.name: m.row_count for m in report.models if m.row_count} == {"int_ci_status_map": 51}
    assert leftovers(paths) == []


def test_quarantined_rows_of_every_table_are_loaded(ciwatch_home: Path):
    paths = Paths(ciwatch_home)
    folder = CIRCLECI_USAGE_JOBS.quarantine_directory(paths.lake)
    folder.mkdir(parents=True)
    row = dict.fromkeys(QUARANTINE_SCHEMA.names) | {"source_table": "circleci_usage_jobs", "reason": "bad"}
    pq.write_table(pa.Table.from_pylist([row, row], schema=QUARANTINE_SCHEMA), folder / "file-a.parquet")
    pq.write_table(pa.Table.from_pylist([row], schema=QUARANTINE_SCHEMA), folder / "file-b.parquet")

    report = build_warehouse(paths, 0.0006)

    assert report.raw_row_counts["quarantine"] == 3
    assert query(paths, "select reason, count(*) from raw.quarantine group by reason") == [("bad", 3)]


def test_comments_on_tables_and_columns_are_visible_to_analysts(tmp_path: Path):
    models_dir = tmp_path / "models"
    (models_dir / "marts").mkdir(parents=True)
    (models_dir / "marts" / "odd_names.sql").write_text(
        "-- One row per thing; it's \"quoted\" and has a $$ in it.\n"
        "-- Second line.\n"
        "select 1 as \"user's id\", 'x' as plain\n"
    )
    (models_dir / "marts" / "odd_names.yml").write_text(
        "columns:\n"
        "  \"user's id\": {description: \"the user's \\\"id\\\"\"}\n"
        "  plain: {description: 'plain text'}\n"
    )
    paths = Paths(tmp_path / "home")

    build_warehouse(paths, 0.0006, models=load_models(models_dir))

    assert query(paths, "select comment from duckdb_tables() where table_name = 'odd_names'") == [
        ("One row per thing; it's \"quoted\" and has a $$ in it.\nSecond line.",)
    ]
    assert query(
        paths,
        "select column_name, comment from duckdb_columns() "
        "where table_name = 'odd_names' order by column_index",
    ) == [("user's id", 'the user\'s "id"'), ("plain", "plain text")]
    assert query(
        paths,
        "select table_comment from information_schema.tables where table_schema = 'raw' and table_name = ?",
        [CIRCLECI_USAGE_JOBS.name],
    ) == [(CIRCLECI_USAGE_JOBS.description,)]


def test_packaged_models_carry_their_descriptions(ciwatch_home: Path):
    paths = Paths(ciwatch_home)
    models = {m.name: m for m in load_models()}

    build_warehouse(paths, 0.0006)

    fct = models["fct_credit_usage_daily"]
    assert query(paths, "select table_comment from information_schema.tables where table_name = ?", [fct.name]) == [
        (fct.description,)
    ]
    comments = dict(
        query(paths, "select column_name, comment from duckdb_columns() where table_name = ?", [fct.name])
    )
    assert comments == fct.columns


def test_report_carries_types_descriptions_and_test_sql(ciwatch_home: Path):
    report = build_warehouse(Paths(ciwatch_home), 0.0006)

    fct = report.model("fct_credit_usage_daily")
    types = {c.name: (c.type, bool(c.description)) for c in fct.columns}
    assert types["usage_date"] == ("DATE", True)
    assert types["job_runs"] == ("BIGINT", True)
    assert types["total_cost_usd"] == ("DOUBLE", True)
    assert all(t.passed and t.failing_rows == 0 and t.sql.startswith(("select", "with")) for t in fct.tests)


def write_bad_model(paths: Paths, models_dir: Path) -> None:
    (models_dir / "staging").mkdir(parents=True)
    (models_dir / "staging" / "broken.sql").write_text(
        "-- One row per nothing.\nselect no_such_column from raw.settings\n"
    )
    (models_dir / "staging" / "broken.yml").write_text("columns: {}\n")


def corrupt_lake_file(paths: Paths, models_dir: Path) -> None:
    target = CIRCLECI_USAGE_JOBS.partition_file(paths.lake, "2025-07-01")
    target.parent.mkdir(parents=True)
    target.write_bytes(b"not parquet at all")


@pytest.mark.parametrize(
    ("break_it", "error", "message"),
    [
        (corrupt_lake_file, RawLoadError, "raw.circleci_usage_jobs"),
        (write_bad_model, ModelBuildError, "broken.sql"),
    ],
    ids=["corrupt_lake_file", "broken_model_sql"],
)
def test_a_failing_build_leaves_the_previous_warehouse_intact(tmp_path: Path, break_it, error, message):
    paths = Paths(tmp_path / "home")
    build_warehouse(paths, 0.5)
    before = paths.warehouse.read_bytes()
    models_dir = tmp_path / "models"
    break_it(paths, models_dir)
    models = load_models(models_dir) if models_dir.exists() else None

    with pytest.raises(error, match=message):
        build_warehouse(paths, 0.75, models=models)

    assert paths.warehouse.read_bytes() == before
    assert query(paths, "select credit_price_usd from raw.settings") == [(0.5,)]
    assert leftovers(paths) == []


def test_files_abandoned_by_a_crashed_build_are_removed(ciwatch_home: Path):
    paths = Paths(ciwatch_home)
    paths.home.mkdir(parents=True)
    for name in ("warehouse.duckdb.123.dead.building", "warehouse.duckdb.123.dead.building.wal"):
        (paths.home / name).write_bytes(b"half a warehouse")

    build_warehouse(paths, 0.0006)

    assert leftovers(paths) == []


READER = textwrap.dedent(
    """
    import sys
    import duckdb

    con = duckdb.connect(sys.argv[1], read_only=True)
    for _ in sys.stdin:
        print(con.execute("select credit_price_usd from raw.settings").fetchone()[0], flush=True)
    """
)


def test_an_open_read_only_connection_does_not_block_a_rebuild(ciwatch_home: Path):
    paths = Paths(ciwatch_home)
    build_warehouse(paths, 0.5)
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(paths.warehouse)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        reader.stdin.write("?\n")
        reader.stdin.flush()
        assert reader.stdout.readline().strip() == "0.5"

        build_warehouse(paths, 0.75)

        # a new connection sees the new warehouse; the open one still reads the file it opened
        assert query(paths, "select credit_price_usd from raw.settings") == [(0.75,)]
        reader.stdin.write("?\n")
        reader.stdin.flush()
        assert reader.stdout.readline().strip() == "0.5"
        assert reader.poll() is None
    finally:
        reader.kill()
        reader.communicate()


def test_every_raw_column_says_what_it_holds(ciwatch_home: Path):
    paths = Paths(ciwatch_home)

    build_warehouse(paths, 0.0006)

    comments = query(
        paths, "select table_name, column_name, comment from duckdb_columns() where schema_name = 'raw'"
    )
    declared = {(t.name, c) for t in RAW_TABLES.values() for c, _ in t.columns}
    declared |= {("quarantine", c) for c, _ in QUARANTINE_COLUMNS}
    assert declared < {(table, column) for table, column, _ in comments}  # and the settings tables
    assert [row for row in comments if not row[2]] == []
    by_column = {(table, column): comment for table, column, comment in comments}
    assert by_column[("circleci_usage_jobs", "job_run_date")] == "The date (UTC) of the job run instance began"
    assert by_column[("circleci_projects", "default_branch")] == "The API response's `vcs_info.default_branch`"
    assert by_column[("gocdnext_runs", "created_date")] == "UTC day of `created_at` (the table's day partition)"
    assert by_column[("quarantine", "reason")] == "Every rule the row broke, '; '-separated"
    assert by_column[("settings", "credit_price_usd")] == "USD per CircleCI credit (CIWATCH_CREDIT_PRICE_USD)"


def test_a_lake_landed_before_a_column_existed_still_builds(ciwatch_home: Path):
    """Usage partitions written before `_quality_flags` existed read it as null."""
    paths = Paths(ciwatch_home)
    rows = june_rows()
    older = dataclasses.replace(
        CIRCLECI_USAGE_JOBS, columns=tuple(c for c in CIRCLECI_USAGE_JOBS.columns if c[0] != "_quality_flags")
    )
    write_rows(paths.lake, older, rows)

    build_warehouse(paths, 0.0006)

    assert query(paths, "select count(*), count(_quality_flags), sum(total_credits) from raw.circleci_usage_jobs") == [
        (len(rows), 0, pytest.approx(sum(r["total_credits"] for r in rows)))
    ]


def test_a_data_folder_copied_whole_rebuilds_nothing(tmp_path: Path):
    """The lake's files are known by their place in the lake, not the folder's path."""
    first = Paths(tmp_path / "first")
    write_rows(first.lake, CIRCLECI_USAGE_JOBS, june_rows())
    build_warehouse(first, 0.0006)
    copy = Paths(tmp_path / "copy")
    shutil.copytree(first.home, copy.home)  # copies modification times too

    report = build_warehouse(copy, 0.0006)

    incremental = [m for m in load_models() if m.materialization.is_incremental]
    assert incremental and {report.model(m.name).rebuilt_from for m in incremental} == {"none"}
    assert query(copy, "select sum(total_credits) from fct_credit_usage_daily") == query(
        first, "select sum(total_credits) from fct_credit_usage_daily"
    )
