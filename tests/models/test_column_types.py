"""Counts reach readers as whole numbers: no model column is HUGEINT, and no count is a DOUBLE."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from ciwatch_etl.environment import Paths
from ciwatch_etl.warehouse.build import ModelBuildError, build_warehouse
from ciwatch_etl.warehouse.column_types import stored_select
from ciwatch_etl.warehouse.models import load_models
from demo_run import DemoRun

# Counts of incremental models (stored as Parquet, which held them as DOUBLE).
COUNTS = [
    ("fct_credit_usage_daily", "failed_job_runs"),
    ("mart_ci_performance_daily", "completed_runs"),
    ("mart_ci_job_performance_daily", "successful_job_runs"),
    ("int_job_resource_classes_evaluated", "measured_job_runs"),
    ("mart_ci_performance_weekly", "completed_runs"),
    ("mart_credit_reconciliation", "matched_workflow_runs"),
]


def test_every_model_count_is_a_bigint(demo_run: DemoRun):
    assert demo_run.exit_code == 0, demo_run.output
    with duckdb.connect(str(Paths(demo_run.home).warehouse), read_only=True) as con:
        types = {
            (table, column): kind
            for table, column, kind in con.execute(
                "select table_name, column_name, data_type from information_schema.columns where table_schema = 'main'"
            ).fetchall()
        }
    assert [key for key, kind in types.items() if kind == "HUGEINT"] == []
    assert {key: types[key] for key in COUNTS} == dict.fromkeys(COUNTS, "BIGINT")


def test_a_hugeint_column_is_stored_as_bigint_in_parquet(tmp_path: Path):
    con = duckdb.connect()
    sql = "select count_if(x) as failed, sum(1) as runs, 0.5 as share from (values (true), (false)) t(x)"
    computed = [kind for _, kind, *_ in con.execute(f"describe {sql}").fetchall()]
    assert computed == ["HUGEINT", "HUGEINT", "DECIMAL(2,1)"]  # as DuckDB computes them
    stored = stored_select(con, sql)
    con.execute(f"copy ({stored}) to '{tmp_path / 'rows.parquet'}' (format parquet)")
    read = con.execute(f"describe select * from '{tmp_path / 'rows.parquet'}'").fetchall()
    assert [(name, kind) for name, kind, *_ in read] == [("failed", "BIGINT"), ("runs", "BIGINT"), ("share", "DECIMAL(2,1)")]
    assert con.execute(f"select * from '{tmp_path / 'rows.parquet'}'").fetchall() == [(1, 2, pytest.approx(0.5))]


def _model(models_dir: Path, name: str, sql: str, materialized: str) -> None:
    (models_dir / f"{name}.sql").write_text(f"-- One row per test.\n{sql}\n")
    (models_dir / f"{name}.yml").write_text(f"config:\n  materialized: {materialized}\n")


def test_table_and_view_models_store_counts_as_bigint(tmp_path: Path):
    models_dir = tmp_path / "models" / "marts"
    models_dir.mkdir(parents=True)
    counts = "select count_if(x) as failed, sum(1) as runs from (values (true), (false)) t(x)"
    _model(models_dir, "counted_table", counts, "table")
    _model(models_dir, "counted_view", counts, "view")
    paths = Paths(tmp_path / "home")

    build_warehouse(paths, 0.0006, models=load_models(tmp_path / "models"))

    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        for name in ("counted_table", "counted_view"):
            assert con.execute(f"describe {name}").fetchall()[0][:2] == ("failed", "BIGINT")
            assert con.execute(f"select * from {name}").fetchall() == [(1, 2)]


def test_a_sum_beyond_bigint_stops_the_build_naming_the_model(tmp_path: Path):
    models_dir = tmp_path / "models" / "marts"
    models_dir.mkdir(parents=True)
    _model(models_dir, "huge_total", "select sum(x) as total from (values (9223372036854775807), (1)) t(x)", "table")

    with pytest.raises(ModelBuildError, match=r"model huge_total .*out of range for the destination type INT64"):
        build_warehouse(Paths(tmp_path / "home"), 0.0006, models=load_models(tmp_path / "models"))
