"""Model tests declared in a model's yml, each compiled to a query that selects the failing rows.

Column tests (under `columns: <name>: tests:`):
    not_null                      the column is never null
    unique                        no two rows share a value
    {accepted_values: [a, b]}     every non-null value is one of these
    {relationships: {to: raw.ci_providers, field: provider}}
                                  every non-null value is a `field` of the table `to` (a seed as
                                  `raw.<seed>`, or a model), as the column would be joined to it
Table tests (under `tests:`):
    {unique: [col, ...]}          no two rows share these columns (nulls compare equal)
    {expression: {name: n, sql: "...", description: "...", severity: error}}
                                  every row satisfies the boolean expression (null counts as a failure)
    {query: {name: n, sql: "select ...", description: "...", severity: error}}
                                  the query selects the rows breaking a rule that spans rows or
                                  tables (e.g. totals that must agree); it passes when empty
Severity: a failing `error` test (every `unique`, and expressions and queries that say so) stops
the build: the previous warehouse stays published. A failing `warn` test (the default) is
reported and the warehouse is published.
Every model also gets `columns_documented`: each table column has a yml description and each yml
column exists in the table.

A test passes when its query returns no rows; the query is kept so a failure can be reproduced
by pasting it into the duckdb CLI.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import duckdb
from sqlglot import exp

from ciwatch_etl.warehouse.quoting import quote_identifier, quote_literal, quote_table
from ciwatch_etl.warehouse.raw import RAW_SCHEMA
from ciwatch_etl.warehouse.seeds import SEED_TABLES
from ciwatch_etl.warehouse.sql_parsing import SqlParseError, parse_statement

COLUMNS_DOCUMENTED = "columns_documented"


class ModelTestSpecError(ValueError):
    """A test in a model's yml is malformed."""


@dataclass(frozen=True)
class ModelTest:
    name: str  # unique within the model; the Dagster asset check name
    description: str
    sql: str  # selects the rows (or duplicated keys, or columns) that break the rule
    columns: tuple[str, ...] = ()  # model columns the rule reads, checked against the yml
    # For rules about single rows: the condition a failing row meets, so that every such rule of
    # a model is counted in one scan of it (`run_row_tests`).
    failing_row: str | None = None
    severity: str = "warn"  # error: a failure stops the build before it publishes
    # The rule reads other tables than its model's (a query test, an expression with a subquery):
    # a nightly build runs it over the same days of every model it reads.
    reads_other_tables: bool = False


SEVERITIES = ("warn", "error")


@dataclass(frozen=True)
class ModelTestResult:
    name: str
    passed: bool
    failing_rows: int
    sql: str
    severity: str = "warn"


def column_tests(table: str, column: str, specs: list[Any]) -> list[ModelTest]:
    """The tests listed under one column of a model's yml."""
    tests = []
    for spec in specs:
        if spec == "not_null":
            tests.append(_not_null(table, column))
        elif spec == "unique":
            tests.append(_unique(table, [column]))
        elif _single_key(spec) == "accepted_values":
            tests.append(_accepted_values(table, column, spec["accepted_values"]))
        elif _single_key(spec) == "relationships":
            tests.append(_relationships(table, column, spec["relationships"]))
        else:
            raise ModelTestSpecError(f"column {column}: unknown test {spec!r}")
    return tests


def table_tests(table: str, specs: list[Any]) -> list[ModelTest]:
    """The tests listed under a model's top-level `tests:`."""
    tests = []
    for spec in specs:
        kind = _single_key(spec)
        if kind == "unique":
            columns = spec["unique"]
            if not isinstance(columns, list) or not columns or not all(isinstance(c, str) for c in columns):
                raise ModelTestSpecError(f"unique needs a list of column names, got {columns!r}")
            tests.append(_unique(table, columns))
        elif kind == "expression":
            tests.append(_expression(table, spec["expression"]))
        elif kind == "query":
            tests.append(_query(spec["query"]))
        else:
            raise ModelTestSpecError(f"unknown table test {spec!r}")
    return tests


def columns_documented(table: str, descriptions: Mapping[str, str | None]) -> ModelTest:
    """Every table column has a yml description, and every yml column exists in the table."""
    documented = [name for name, text in descriptions.items() if text and text.strip()]
    sql = f"""with

table_columns as (
    select column_name
    from duckdb_columns()
    where database_name = current_database()
        and schema_name = 'main'
        and table_name = {quote_literal(table)}
),

documented as (
    {_names_relation(documented)}
),

declared as (
    {_names_relation(list(descriptions))}
)

select column_name, 'no description in the yml' as problem
from table_columns
where column_name not in (select column_name from documented)
union all
select column_name, 'in the yml but not in the table' as problem
from declared
where column_name not in (select column_name from table_columns)"""
    return ModelTest(
        COLUMNS_DOCUMENTED,
        "Every table column has a description in the yml, and every yml column exists.",
        sql,
    )


def run_test(con: duckdb.DuckDBPyConnection, test: ModelTest) -> ModelTestResult:
    """Count the failing rows of one test."""
    # Newlines keep a trailing `--` comment in the test's SQL from swallowing the parenthesis.
    (failing,) = con.execute(f"select count(*) from (\n{test.sql}\n)").fetchone()
    return ModelTestResult(test.name, failing == 0, failing, test.sql, test.severity)


def run_row_tests(con: duckdb.DuckDBPyConnection, table: str, tests: list[ModelTest]) -> list[ModelTestResult]:
    """Count the failing rows of several single-row tests of `table` in one scan."""
    if not tests:
        return []
    counts = ", ".join(f"coalesce(count_if(({test.failing_row})), 0)" for test in tests)
    failing = con.execute(f"select {counts} from {quote_identifier(table)}").fetchone()
    return [ModelTestResult(t.name, n == 0, n, t.sql, t.severity) for t, n in zip(tests, failing, strict=True)]


def _not_null(table: str, column: str) -> ModelTest:
    failing = f"{quote_identifier(column)} is null"
    return ModelTest(
        f"not_null_{column}",
        f"`{column}` is never null.",
        f"select * from {quote_identifier(table)} where {failing}",
        (column,),
        failing,
    )


def _unique(table: str, columns: list[str]) -> ModelTest:
    keys = ", ".join(quote_identifier(c) for c in columns)
    return ModelTest(
        "unique_" + "__".join(columns),
        f"No two rows share ({', '.join(columns)}).",
        f"select {keys}, count(*) as row_count from {quote_identifier(table)} "
        f"group by {keys} having count(*) > 1",
        tuple(columns),
        severity="error",
    )


def _accepted_values(table: str, column: str, values: Any) -> ModelTest:
    if not isinstance(values, list) or not values:
        raise ModelTestSpecError(f"column {column}: accepted_values needs a list, got {values!r}")
    listed = ", ".join(quote_literal(v) for v in values)
    failing = f"{quote_identifier(column)} is not null and {quote_identifier(column)} not in ({listed})"
    return ModelTest(
        f"accepted_values_{column}",
        f"`{column}` is one of {', '.join(map(str, values))} (or null).",
        f"select * from {quote_identifier(table)} where {failing}",
        (column,),
        failing,
    )


def _relationships(table: str, column: str, spec: Any) -> ModelTest:
    if not isinstance(spec, dict) or set(spec) != {"to", "field"} or not all(
        isinstance(v, str) for v in spec.values()
    ):
        raise ModelTestSpecError(f"column {column}: relationships needs {{to: table, field: column}}, got {spec!r}")
    schema, _, name = spec["to"].rpartition(".")
    if schema not in ("", RAW_SCHEMA) or (schema == RAW_SCHEMA and name not in SEED_TABLES):
        raise ModelTestSpecError(f"column {column}: relationships to {spec['to']!r}: a model, or raw.<seed>")
    target = quote_table(schema, name) if schema else quote_identifier(name)
    failing = (f"{quote_identifier(column)} is not null and {quote_identifier(column)} not in "
               f"(select {quote_identifier(spec['field'])} from {target})")
    return ModelTest(
        f"relationships_{column}",
        f"Every `{column}` is a `{spec['field']}` of {spec['to']} (or null).",
        f"select * from {quote_identifier(table)} where {failing}",
        (column,),
        failing,
        # A seed is the same in every build: only a model's rows can change under the test.
        reads_other_tables=not schema,
    )


def _expression(table: str, spec: Any) -> ModelTest:
    name, sql, description, severity = _named_sql(spec, "expression")
    try:
        tree = parse_statement(sql)
    except SqlParseError as error:
        raise ModelTestSpecError(f"expression {name}: {error}") from None
    return ModelTest(
        name,
        description or f"Every row satisfies `{sql}`.",
        f"select * from {quote_identifier(table)} where ({sql}) is not true",
        tuple(sorted({column.name for column in tree.find_all(exp.Column)})),
        f"({sql}) is not true",
        severity,
        reads_other_tables=tree.find(exp.Table) is not None,
    )


def _query(spec: Any) -> ModelTest:
    name, sql, description, severity = _named_sql(spec, "query")
    try:
        tree = parse_statement(sql)
    except SqlParseError as error:
        raise ModelTestSpecError(f"query {name}: {error}") from None
    if not isinstance(tree, exp.Query):
        raise ModelTestSpecError(f"query {name}: must be one SELECT statement")
    return ModelTest(name, description or f"`{sql}` returns no rows.", sql.rstrip().rstrip(";"), severity=severity,
                     reads_other_tables=True)


def _named_sql(spec: Any, kind: str) -> tuple[str, str, str | None, str]:
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str) or not isinstance(
        spec.get("sql"), str
    ):
        raise ModelTestSpecError(f"{kind} needs a name and an sql string, got {spec!r}")
    unknown = set(spec) - {"name", "sql", "description", "severity"}
    if unknown:
        raise ModelTestSpecError(f"{kind} {spec['name']}: unknown keys {sorted(unknown)}")
    severity = spec.get("severity", "warn")
    if severity not in SEVERITIES:
        raise ModelTestSpecError(f"{kind} {spec['name']}: severity must be warn or error, got {severity!r}")
    return spec["name"], spec["sql"], spec.get("description"), severity


def _single_key(spec: Any) -> str | None:
    if isinstance(spec, dict) and len(spec) == 1:
        return next(iter(spec))
    return None


def _names_relation(names: list[str]) -> str:
    # An empty VALUES list is not valid SQL, so no names means an empty typed relation.
    if not names:
        return "select cast(null as varchar) as column_name limit 0"
    rows = ", ".join(f"({quote_literal(n)})" for n in names)
    return f"select * from (values {rows}) as names(column_name)"
