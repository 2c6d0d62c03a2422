"""Build the DuckDB warehouse from the lake and the SQL models, then publish it atomically.

The warehouse file is small: views over the lake (`raw.*`, staging models, incremental models'
Parquet files under `lake/_models/`) and the tables of small models. Each build writes a
fresh file beside `warehouse.duckdb` and renames it over the old one: an open read-only
connection keeps reading the old file (and the model files it lists, kept until the build after
next), a new connection sees the complete new warehouse, and any failure leaves the old one as it
was. Incremental models recompute only the days their changed inputs reach (see `plan`);
`full_refresh` recomputes everything. The caller holds the data folder's write lock.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import secrets
import shutil
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from ciwatch_etl.config_file import Config, load_config
from ciwatch_etl.crash_points import crash_point
from ciwatch_etl.environment import Paths
from ciwatch_etl.warehouse.column_types import stored_select
from ciwatch_etl.warehouse.config_tables import load_config_tables
from ciwatch_etl.warehouse.incremental import (
    MODELS_FOLDER,
    ModelBuildError,
    Refreshed,
    compact,
    create_model_view,
    model_folder,
    refresh_incremental,
)
from ciwatch_etl.warehouse.lake_files import changed_days, check_readable, list_lake_files
from ciwatch_etl.warehouse.model_tests import ModelTestResult, run_row_tests, run_test
from ciwatch_etl.warehouse.models import Model, load_models
from ciwatch_etl.warehouse.plan import BuildPlanner, ModelPlan
from ciwatch_etl.warehouse.quoting import quote_identifier, quote_literal, run_in_one_transaction
from ciwatch_etl.warehouse.raw import create_raw_views
from ciwatch_etl.warehouse.build_report import BuildReport, report_model, table_columns
from ciwatch_etl.warehouse.row_counts import count_rows
from ciwatch_etl.warehouse.seeds import load_seeds, seeds_digest
from ciwatch_etl.warehouse.state import (
    BuildState,
    ModelRun,
    ModelState,
    UnreadableWarehouse,
    read_state,
    write_state,
)
from ciwatch_etl.warehouse.tested_days import first_tested_days, models_read_by, reading_from

__all__ = ["ModelBuildError", "ModelTestError", "build_warehouse"]

BUILDING_SUFFIX = ".building"
# The file format DuckDB 1.0 and every later 1.x reads (the DuckDB CLI and DBeaver's driver lag
# behind the Python package): analysts open the warehouse with whatever client they have.
STORAGE_COMPATIBILITY = "v1.0.0"
# The build's DuckDB stays under this much memory and spills the rest to disk. `load-usage` builds
# in the process that landed the files (about 580 MB resident after a year of exports), and
# DuckDB holds some memory outside this limit: a year's load peaked at 1492-1569 MiB (RESULTS.md).
MEMORY_LIMIT = "900MB"


def build_warehouse(
    paths: Paths,
    credit_price_usd: float,
    *,
    models: Sequence[Model] | None = None,
    config: Config | None = None,
    full_refresh: bool = False,
) -> BuildReport:
    """Rebuild `paths.warehouse` from `paths.lake` and the models (default: the packaged ones),
    with the settings of `config` (default: the `ciwatch.toml` that applies to `paths.home`).

    A failed `warn` test is reported and the warehouse is still published (Dagster shows the
    failed asset check); a failed `error` test raises `ModelTestError` naming it, as any other
    error (unreadable lake file, broken model SQL) does, and the previous warehouse stays.
    """
    models = load_models() if models is None else list(models)
    config = load_config(paths.home) if config is None else config
    paths.home.mkdir(parents=True, exist_ok=True)
    _remove_abandoned_builds(paths.warehouse)
    built_at = datetime.now(UTC).replace(tzinfo=None)
    build_id = f"{built_at:%Y%m%dT%H%M%S}-{secrets.token_hex(4)}"
    building = paths.warehouse.with_name(f"{paths.warehouse.name}.{os.getpid()}.{build_id}{BUILDING_SUFFIX}")
    try:
        previous, why_full = read_state(paths.warehouse), None
    except UnreadableWarehouse as unreadable:
        # The lake is the data: a damaged warehouse is only a reason to rebuild all of it.
        previous, why_full = None, f"{unreadable}: every model is rebuilt from the lake"
    lake_files = list_lake_files(paths.lake)
    check_readable(lake_files, previous.lake_files if previous else ())
    lake_changes = changed_days(previous.lake_files if previous else (), lake_files)
    planner = BuildPlanner(previous, lake_changes, _settings_fingerprint(config, credit_price_usd), full_refresh)
    state = BuildState(lake_files)
    try:
        con = duckdb.connect(
            str(building),
            config={
                "memory_limit": MEMORY_LIMIT,
                "temp_directory": str(_spill_folder(building)),
                "storage_compatibility_version": STORAGE_COMPATIBILITY,
                # Models are sets: keeping rows in input order only costs memory in large sorts and joins.
                "preserve_insertion_order": False,
            },
        )
        try:
            # Models and tests read the same Parquet footers again and again.
            con.execute("set parquet_metadata_cache = true")
            raw_row_counts = create_raw_views(con, lake_files)
            load_config_tables(con, config, credit_price_usd, built_at)
            load_seeds(con)
            by_name = {m.name: m for m in models}
            plans, seconds = {}, {}
            for model in models:
                started = time.perf_counter()
                plans[model.name] = planner.plan(model)
                refreshed = _materialize(con, model, plans[model.name], previous, by_name, paths, build_id)
                state.models[model.name] = refreshed.state
                planner.record(model, refreshed.changed_from)
                seconds[model.name] = time.perf_counter() - started
            tests = _run_all_tests(con, models, first_tested_days(models, planner.changed_from))
            _stop_on_failed_error_tests(tests)
            reports = tuple(
                report_model(con, model, plans[model.name], seconds[model.name], *tests[model.name],
                             count_rows(con, model, plans[model.name], previous, state), state.models[model.name])
                for model in models
            )
            write_state(con, state, {
                r.name: ModelRun(by_name[r.name].materialization.kind, r.rebuilt_from, r.row_count,
                                 r.build_seconds, r.test_seconds)
                for r in reports
            })
            # Fold the write-ahead log into the file: only the file itself is renamed.
            con.execute("checkpoint")
        finally:
            con.close()
        crash_point("warehouse.built")
        os.replace(building, paths.warehouse)
        crash_point("warehouse.swapped")
    except BaseException:
        _remove_build_files(building)
        _remove_unreferenced_model_files(paths, previous.referenced_files() if previous else set())
        raise
    finally:
        shutil.rmtree(_spill_folder(building), ignore_errors=True)
    _remove_unreferenced_model_files(paths, state.referenced_files() | (previous.referenced_files() if previous else set()))
    return BuildReport(paths.warehouse, built_at, credit_price_usd, raw_row_counts, reports, why_full)


def _materialize(
    con: duckdb.DuckDBPyConnection,
    model: Model,
    plan: ModelPlan,
    previous: BuildState | None,
    models: dict[str, Model],
    paths: Paths,
    build_id: str,
) -> Refreshed:
    if model.materialization.is_incremental:
        before = previous.models.get(model.name) if previous else None
        folder = model_folder(paths.lake, model.name)
        refreshed = refresh_incremental(con, model, models, plan, before, folder, build_id)
        state = compact(con, model, refreshed.state, folder, build_id)
        crash_point("warehouse.model_files_written")
        create_model_view(con, model, state)
        _comment(con, model, "view")
        return Refreshed(state, refreshed.changed_from)
    kind = model.materialization.kind
    try:
        con.execute(f"create {kind} {quote_identifier(model.name)} as\n{stored_select(con, model.sql)}")
    except duckdb.Error as error:
        raise ModelBuildError(f"model {model.name} ({model.sql_path}) failed: {error}") from error
    _comment(con, model, kind)
    return Refreshed(ModelState(plan.fingerprint), plan.inputs_changed_from)


def _comment(con: duckdb.DuckDBPyConnection, model: Model, kind: str) -> None:
    table = quote_identifier(model.name)
    built_columns = {name for name, _ in table_columns(con, model.name)}
    # A yml column missing from the table is reported by the columns_documented test.
    statements = [f"comment on {kind} {table} is {quote_literal(model.description)}"] + [
        f"comment on column {table}.{quote_identifier(column)} is {quote_literal(description)}"
        for column, description in model.columns.items()
        if description and column in built_columns
    ]
    run_in_one_transaction(con, statements)


def _run_all_tests(
    con: duckdb.DuckDBPyConnection, models: Sequence[Model], first_days: dict[str, date | None]
) -> dict[str, tuple[tuple[ModelTestResult, ...], float]]:
    """Each model's tests, over the days `first_tested_days` gives it; in model order."""
    tests = {}
    for first_day in dict.fromkeys(first_days.values()):
        group = [m for m in models if first_days[m.name] == first_day]
        with reading_from(con, models_read_by(models, group), first_day):
            tests.update({m.name: _timed_tests(con, m) for m in group})
    return {model.name: tests[model.name] for model in models}


class ModelTestError(RuntimeError):
    """A test of severity error failed: the build stops and the previous warehouse stays."""

    def __init__(self, results: dict[str, tuple[ModelTestResult, ...]]):
        self.results = results  # every test of every model, as run
        self.failed = [(model, test) for model, tests in results.items() for test in tests
                       if test.severity == "error" and not test.passed]
        names = "; ".join(f"{model}.{test.name} ({test.failing_rows} rows)" for model, test in self.failed)
        super().__init__(f"error checks failed, the warehouse was not published: {names}")


def _stop_on_failed_error_tests(tests: dict[str, tuple[tuple[ModelTestResult, ...], float]]) -> None:
    error = ModelTestError({model: results for model, (results, _) in tests.items()})
    if error.failed:
        raise error


def _timed_tests(con: duckdb.DuckDBPyConnection, model: Model) -> tuple[tuple[ModelTestResult, ...], float]:
    started = time.perf_counter()
    return tuple(_run_tests(con, model)), time.perf_counter() - started


def _run_tests(con: duckdb.DuckDBPyConnection, model: Model) -> Iterator[ModelTestResult]:
    row_tests = [test for test in model.tests if test.failing_row is not None]
    try:
        batched = {r.name: r for r in run_row_tests(con, model.name, row_tests)}
    except duckdb.Error:
        batched = {}  # one of them is broken: run each on its own to name it
    for test in model.tests:
        if test.name in batched:
            yield batched[test.name]
            continue
        try:
            yield run_test(con, test)
        except duckdb.Error as error:
            raise ModelBuildError(
                f"test {test.name} of model {model.name} ({model.sql_path}) cannot run: {error}"
            ) from error


def _settings_fingerprint(config: Config, credit_price_usd: float) -> str:
    """What the settings tables and seeds hold, less where the file was read and when: a change rebuilds."""
    settings = dataclasses.replace(config, source=None)
    return hashlib.sha256(repr((settings, credit_price_usd, seeds_digest())).encode()).hexdigest()


def _spill_folder(building: Path) -> Path:
    return building.with_name(building.name + ".spill")


def _remove_abandoned_builds(warehouse: Path) -> None:
    # The caller holds the write lock, so a building file here was left by a crashed run.
    for leftover in warehouse.parent.glob(f"{warehouse.name}.*{BUILDING_SUFFIX}*"):
        if leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)


def _remove_build_files(building: Path) -> None:
    for path in (building, building.with_name(building.name + ".wal")):
        path.unlink(missing_ok=True)


def _remove_unreferenced_model_files(paths: Paths, keep: set[str]) -> None:
    """Delete model files no kept warehouse lists (older builds', a failed build's)."""
    root = paths.lake / MODELS_FOLDER
    if not root.exists():
        return
    for path in root.rglob("*.parquet"):
        if str(path) not in keep:
            path.unlink(missing_ok=True)
    for folder in sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        if not any(folder.iterdir()):
            folder.rmdir()
