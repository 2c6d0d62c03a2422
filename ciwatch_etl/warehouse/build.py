"""Build the DuckDB warehouse from the lake and the SQL models, then publish it atomically.

Analysts keep read-only connections open on `warehouse.duckdb`. Writing that file would have to
wait for them, and they could see a half-built mart. So the build writes a fresh file beside it
and renames it over the old one: an open connection keeps reading the old file until it
reconnects, a new one sees the complete new warehouse, and any failure leaves the old file as it
was. The caller holds the data folder's write lock (`WarehouseResource.write_lock`).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from ciwatch_etl.config import Config, load_config
from ciwatch_etl.settings import Paths
from ciwatch_etl.warehouse.config_tables import load_config_tables
from ciwatch_etl.warehouse.model_tests import ModelTestResult, run_test
from ciwatch_etl.warehouse.models import Model, load_models
from ciwatch_etl.warehouse.quoting import quote_identifier, quote_literal
from ciwatch_etl.warehouse.raw import load_raw_schema
from ciwatch_etl.warehouse.report import BuildReport, describe_model, table_columns

BUILDING_SUFFIX = ".building"


class ModelBuildError(RuntimeError):
    """A model's SQL (or one of its tests) failed against the warehouse being built."""


def build_warehouse(
    paths: Paths,
    credit_price_usd: float,
    *,
    models: Sequence[Model] | None = None,
    config: Config | None = None,
) -> BuildReport:
    """Rebuild `paths.warehouse` from `paths.lake` and the models (default: the packaged ones),
    with the settings of `config` (default: the `ciwatch.toml` that applies to `paths.home`).

    Test failures are reported, not raised: the warehouse is still published, and Dagster shows
    the failed asset checks. Any error (unreadable lake file, broken model SQL) raises and keeps
    the previous warehouse.
    """
    models = load_models() if models is None else list(models)
    config = load_config(paths.home) if config is None else config
    paths.home.mkdir(parents=True, exist_ok=True)
    _remove_abandoned_builds(paths.warehouse)
    building = paths.warehouse.with_name(
        f"{paths.warehouse.name}.{os.getpid()}.{secrets.token_hex(4)}{BUILDING_SUFFIX}"
    )
    built_at = datetime.now(UTC).replace(tzinfo=None)
    try:
        con = duckdb.connect(str(building))
        try:
            raw_row_counts = load_raw_schema(con, paths.lake)
            load_config_tables(con, config, credit_price_usd, built_at)
            _build_models(con, models)
            reports = tuple(
                describe_model(con, model, tuple(_run_tests(con, model))) for model in models
            )
            # Fold the write-ahead log into the file: only the file itself is renamed.
            con.execute("checkpoint")
        finally:
            con.close()
        os.replace(building, paths.warehouse)
    except BaseException:
        _remove_build_files(building)
        raise
    return BuildReport(paths.warehouse, built_at, credit_price_usd, raw_row_counts, reports)


def _build_models(con: duckdb.DuckDBPyConnection, models: Sequence[Model]) -> None:
    con.execute("begin transaction")
    for model in models:
        table = quote_identifier(model.name)
        try:
            con.execute(f"create table {table} as\n{model.sql}")
        except duckdb.Error as error:
            raise ModelBuildError(f"model {model.name} ({model.sql_path}) failed: {error}") from error
        con.execute(f"comment on table {table} is {quote_literal(model.description)}")
        built_columns = {name for name, _ in table_columns(con, model.name)}
        # A yml column missing from the table is reported by the columns_documented test.
        for column, description in model.columns.items():
            if description and column in built_columns:
                con.execute(
                    f"comment on column {table}.{quote_identifier(column)} is {quote_literal(description)}"
                )
    con.execute("commit")


def _run_tests(con: duckdb.DuckDBPyConnection, model: Model) -> Iterator[ModelTestResult]:
    for test in model.tests:
        try:
            yield run_test(con, test)
        except duckdb.Error as error:
            raise ModelBuildError(
                f"test {test.name} of model {model.name} ({model.sql_path}) cannot run: {error}"
            ) from error


def _remove_abandoned_builds(warehouse: Path) -> None:
    # The caller holds the write lock, so a building file here was left by a crashed run.
    for leftover in warehouse.parent.glob(f"{warehouse.name}.*{BUILDING_SUFFIX}"):
        _remove_build_files(leftover)


def _remove_build_files(building: Path) -> None:
    for path in (building, building.with_name(building.name + ".wal")):
        path.unlink(missing_ok=True)
