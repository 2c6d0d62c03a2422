"""What a warehouse build produced: per model, its rows, typed and described columns, test results."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb

from ciwatch_etl.warehouse.model_tests import ModelTestResult
from ciwatch_etl.warehouse.models import Model
from ciwatch_etl.warehouse.plan import FULL, ModelPlan
from ciwatch_etl.warehouse.quoting import quote_identifier
from ciwatch_etl.warehouse.state import ModelState

PREVIEW_ROWS = 5


@dataclass(frozen=True)
class ColumnReport:
    name: str
    type: str  # DuckDB type as built, e.g. DOUBLE, TIMESTAMP
    description: str | None  # from the model's yml


@dataclass(frozen=True)
class ModelReport:
    name: str
    row_count: int
    columns: tuple[ColumnReport, ...]
    tests: tuple[ModelTestResult, ...]
    preview: tuple[tuple[object, ...], ...]  # the first rows, values as DuckDB returned them
    build_seconds: float = 0.0  # computing and storing the model
    test_seconds: float = 0.0  # running its tests
    rebuilt_from: str = "all"  # incremental models: the first partition rewritten, "all" or "none"


@dataclass(frozen=True)
class BuildReport:
    warehouse: Path
    built_at: datetime  # UTC
    credit_price_usd: float
    raw_row_counts: dict[str, int]  # raw table name (and quarantine) -> rows loaded from the lake
    models: tuple[ModelReport, ...]  # in build (dependency) order
    full_refresh_reason: str | None = None  # why the previous warehouse could not be built upon

    def model(self, name: str) -> ModelReport:
        for report in self.models:
            if report.name == name:
                return report
        raise KeyError(name)

    @property
    def passed(self) -> bool:
        """Whether every model test passed."""
        return all(test.passed for model in self.models for test in model.tests)


def table_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    """(name, DuckDB type) of each column of `main.<table>`, in table order."""
    return con.execute(
        "select column_name, data_type from duckdb_columns() "
        "where database_name = current_database() and schema_name = 'main' and table_name = ? "
        "order by column_index",
        [table],
    ).fetchall()


def report_model(
    con: duckdb.DuckDBPyConnection,
    model: Model,
    plan: ModelPlan,
    build_seconds: float,
    tests: tuple[ModelTestResult, ...],
    test_seconds: float,
    rows: int,
    stored: ModelState,
) -> ModelReport:
    """What a build made of `model`, as planned (`plan`) and stored (`stored`)."""
    rebuilt = "all"
    if model.materialization.is_incremental and plan.rebuild_from != FULL:
        rebuilt = "none" if plan.rebuild_from is None else plan.rebuild_from.isoformat()
    return describe_model(con, model, tests, rows, newest_partition(model, stored), build_seconds=build_seconds,
                          test_seconds=test_seconds, rebuilt_from=rebuilt)


def newest_partition(model: Model, stored: ModelState) -> date | None:
    """The model's newest partition, when the build knows it: an incremental model's newest day, a
    partitioned view's newest counted partition."""
    if model.materialization.is_incremental:
        return max(stored.days, default=None)
    return max((day for day in stored.partition_rows or {} if day is not None), default=None)


def describe_model(
    con: duckdb.DuckDBPyConnection, model: Model, tests: tuple[ModelTestResult, ...], row_count: int,
    newest: date | None = None, **timings: object
) -> ModelReport:
    """Read back what was built for one model (from the same connection, before publishing), with
    its `row_count` as counted (`row_counts`); the preview is of its `newest` partition, if given
    (a few rows of one day's file, not a scan of a year's)."""
    table = quote_identifier(model.name)
    columns = table_columns(con, model.name)
    if newest is None:
        preview = con.execute(f"select * from {table} limit {PREVIEW_ROWS}").fetchall()
    else:
        column = quote_identifier(model.materialization.partition_by or "")
        preview = con.execute(f"select * from {table} where {column} = ? limit {PREVIEW_ROWS}", [newest]).fetchall()
    return ModelReport(
        name=model.name,
        row_count=row_count,
        columns=tuple(ColumnReport(name, type_, model.columns.get(name)) for name, type_ in columns),
        tests=tests,
        preview=tuple(preview),
        **timings,
    )
