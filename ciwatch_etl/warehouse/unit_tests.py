"""Given/expect unit tests of a model, declared in its yml (like dbt's `unit_tests:`).

    unit_tests:
      - name: failing_workflow_is_still_running
        description: "Why the expected rows are what they are, with the arithmetic."
        given:
          stg_circleci__workflows:          # a table the model reads, as its SQL names it
            - {workflow_id: w1, workflow_status: failing, created_at: "2024-03-01 10:00:00"}
          raw.ci_status_map: []             # an empty table (a seed or setting otherwise keeps its rows)
        expect:                             # the model's rows, only the columns named here
          - {run_id: w1, status: running}

The model's own SQL runs in an in-memory DuckDB where every table it reads exists with the type
it has in a build and holds the given rows. A table not given holds what a build over an empty
lake with no `ciwatch.toml` gives it (credit price 0): the lake's tables and the models reading
them are empty; the seeds, settings and int_ci_status_map hold their rows. No model is built on
data. Given values are cast to the input's column types; expected values to the
output's. The test passes when the output, restricted to the expected columns, is the expected
rows as a multiset (doubles compared to 9 decimal places).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb

from ciwatch_etl.config_file import Config, load_resource_class_seed
from ciwatch_etl.landing.tables import QUARANTINE_COLUMNS, RAW_TABLES
from ciwatch_etl.package_files import default_models_dir
from ciwatch_etl.warehouse.config_tables import load_config_tables
from ciwatch_etl.warehouse.quoting import quote_identifier, quote_table
from ciwatch_etl.warehouse.raw import QUARANTINE_TABLE, RAW_SCHEMA, typed_parquet_select
from ciwatch_etl.warehouse.seeds import SEEDS_FOLDER, load_seeds

_DECIMALS = 9
_ROUNDED_TYPES = ("DOUBLE", "FLOAT", "DECIMAL")


class UnitTestSpecError(ValueError):
    """A unit test in a model's yml is malformed."""


@dataclass(frozen=True)
class UnitTest:
    name: str
    description: str
    given: dict[str, tuple[dict[str, Any], ...]]  # table as the model's SQL names it -> rows
    expect: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class UnitTestResult:
    model: str
    name: str
    passed: bool
    missing: tuple[tuple, ...]  # expected rows the model did not give
    unexpected: tuple[tuple, ...]  # rows the model gave that were not expected
    columns: tuple[str, ...]

    def explain(self) -> str:
        lines = [f"{self.model}.{self.name}: columns {', '.join(self.columns)}"]
        lines += [f"  missing    {row}" for row in self.missing]
        lines += [f"  unexpected {row}" for row in self.unexpected]
        return "\n".join(lines)


def parse_unit_tests(specs: Any, inputs: set[str]) -> tuple[UnitTest, ...]:
    """The yml's `unit_tests:` list; `inputs` are the tables the model reads (`raw.<name>` for raw)."""
    if not isinstance(specs, list):
        raise UnitTestSpecError("`unit_tests` must be a list")
    tests = []
    for spec in specs:
        if not isinstance(spec, dict) or set(spec) - {"name", "description", "given", "expect"} or not isinstance(
            spec.get("name"), str
        ):
            raise UnitTestSpecError(f"a unit test needs a name, given and expect, got {spec!r}")
        name, given, expect = spec["name"], spec.get("given") or {}, spec.get("expect")
        if not isinstance(given, dict):
            raise UnitTestSpecError(f"unit test {name}: `given` maps tables to rows")
        unknown = sorted(set(given) - inputs)
        if unknown:
            raise UnitTestSpecError(f"unit test {name}: the model does not read {', '.join(unknown)}")
        rows = {table: _rows(name, table, value) for table, value in given.items()}
        expected = _rows(name, "expect", expect)
        if not expected or any(set(row) != set(expected[0]) for row in expected):
            raise UnitTestSpecError(f"unit test {name}: `expect` needs rows that all name the same columns")
        tests.append(UnitTest(name, str(spec.get("description") or ""), rows, expected))
    names = [t.name for t in tests]
    if len(set(names)) != len(names):
        raise UnitTestSpecError("two unit tests share a name")
    return tuple(tests)


def _rows(test: str, table: str, value: Any) -> tuple[dict[str, Any], ...]:
    if not isinstance(value, list) or not all(isinstance(row, dict) for row in value):
        raise UnitTestSpecError(f"unit test {test}: {table} must be a list of rows (mappings)")
    return tuple({str(k): v for k, v in row.items()} for row in value)


class UnitTestRunner:
    """Runs unit tests against one in-memory warehouse of empty typed tables, in a rolled-back transaction each."""

    def __init__(self, models: Sequence[Any]) -> None:
        self._models = {m.name: m for m in models}
        self._con: duckdb.DuckDBPyConnection | None = None

    def run(self, model_name: str, test: UnitTest) -> UnitTestResult:
        model = self._models[model_name]
        con = self._empty_warehouse()
        con.execute("begin")
        try:
            for table, rows in test.given.items():
                _replace_rows(con, table, rows)
            con.execute(f"create temp table unit_actual as select * from (\n{model.sql}\n)")
            return _compare(con, model_name, test)
        finally:
            con.execute("rollback")

    def _empty_warehouse(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            self._con = _empty_warehouse(tuple(self._models.values()))
        return self._con


def _empty_warehouse(models: Sequence[Any]) -> duckdb.DuckDBPyConnection:
    """Every raw table, setting, seed and model as a table, built over an empty lake."""
    con = duckdb.connect()
    con.execute(f"create schema {quote_identifier(RAW_SCHEMA)}")
    tables = [(t.name, t.columns) for t in RAW_TABLES.values()] + [(QUARANTINE_TABLE, QUARANTINE_COLUMNS)]
    for name, columns in tables:
        con.execute(f"create table {quote_table(RAW_SCHEMA, name)} as {typed_parquet_select(con, columns, [])}")
    rates = load_resource_class_seed(default_models_dir() / SEEDS_FOLDER / "circleci_resource_classes.csv")
    load_config_tables(con, Config(None, resource_classes=rates), 0.0, datetime(2000, 1, 1))
    load_seeds(con)
    for model in models:
        con.execute(f"create table {quote_identifier(model.name)} as {model.sql}")
    return con


def _replace_rows(con: duckdb.DuckDBPyConnection, table: str, rows: Sequence[dict[str, Any]]) -> None:
    schema, _, name = table.rpartition(".")
    target = quote_table(schema, name) if schema else quote_identifier(name)
    con.execute(f"delete from {target}")
    for row in rows:
        columns = ", ".join(quote_identifier(c) for c in row)
        marks = ", ".join("?" * len(row))
        con.execute(f"insert into {target} ({columns}) values ({marks})", list(row.values()))


def _compare(con: duckdb.DuckDBPyConnection, model: str, test: UnitTest) -> UnitTestResult:
    types = dict(con.execute("select column_name, column_type from (describe unit_actual)").fetchall())
    names = tuple(test.expect[0])
    absent = [c for c in names if c not in types]
    if absent:
        raise UnitTestSpecError(f"unit test {test.name}: {model} has no column {', '.join(absent)}")
    con.execute(f"create temp table unit_expected as select {_list(names)} from unit_actual limit 0")
    _replace_rows(con, "unit_expected", test.expect)
    compared = ", ".join(
        f"round({quote_identifier(c)}, {_DECIMALS})" if types[c].startswith(_ROUNDED_TYPES) else quote_identifier(c)
        for c in names
    )
    missing = con.execute(
        f"select {compared} from unit_expected except all select {compared} from unit_actual"
    ).fetchall()
    unexpected = con.execute(
        f"select {compared} from unit_actual except all select {compared} from unit_expected"
    ).fetchall()
    return UnitTestResult(model, test.name, not missing and not unexpected, tuple(missing), tuple(unexpected),
                          names)


def _list(columns: Sequence[str]) -> str:
    return ", ".join(quote_identifier(c) for c in columns)

