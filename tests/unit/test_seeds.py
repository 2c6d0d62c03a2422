"""Seeds: every CSV in dbt_like_sql/seeds/ becomes raw.<stem>, and yml tests can check against one."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from ciwatch_etl.warehouse.model_tests import column_tests, run_row_tests, run_test
from ciwatch_etl.warehouse.seeds import SEED_TABLES, SeedError, load_seeds, seed_files


def test_every_seed_but_the_resource_classes_is_loaded_with_its_comments():
    con = duckdb.connect()
    con.execute("create schema raw")
    load_seeds(con)

    assert SEED_TABLES == {"ci_status_map", "ci_providers"}
    assert con.execute("select provider from raw.ci_providers order by provider").fetchall() == [
        ("circleci",), ("gocdnext",), ("sourcecraft",)
    ]
    # CircleCI 'failing' is a workflow still running with a failed job: running, not failed.
    assert con.execute(
        "select status from raw.ci_status_map where provider = 'circleci' and status_level = 'run' "
        "and source_status = 'failing'"
    ).fetchall() == [("running",)]
    undocumented = con.execute(
        "select table_name, column_name from duckdb_columns() where schema_name = 'raw' and comment is null"
    ).fetchall()
    assert undocumented == []


def test_a_seed_column_without_a_description_fails_naming_the_yml(tmp_path: Path):
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "colours.csv").write_text("colour,hex\nred,#f00\n", encoding="utf-8")
    (tmp_path / "seeds" / "colours.yml").write_text(
        "description: One row per colour.\ncolumns:\n  colour: Its name\n", encoding="utf-8"
    )
    con = duckdb.connect()
    con.execute("create schema raw")

    with pytest.raises(SeedError, match=r"colours\.yml: no description for column 'hex'"):
        load_seeds(con, seed_files(tmp_path))


def test_relationships_to_the_providers_seed_counts_unknown_providers():
    con = duckdb.connect()
    con.execute("create schema raw")
    load_seeds(con)
    con.execute("create table runs as select * from (values ('circleci'), ('jenkins'), (null)) as t(provider)")
    (test,) = column_tests("runs", "provider", [{"relationships": {"to": "raw.ci_providers", "field": "provider"}}])

    assert test.name == "relationships_provider" and not test.reads_other_tables
    assert run_test(con, test).failing_rows == 1
    assert run_row_tests(con, "runs", [test])[0].failing_rows == 1
