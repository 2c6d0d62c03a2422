"""Write an incremental model's partitions as Parquet and read them back through one view.

Files live under `lake/_models/<model>/<partition_by>=<day>/<build id>_<n>.parquet`, plus one
empty file under `_columns/` that carries the model's columns (so a model without rows still has
typed columns). A build never changes a file in place: it writes new names for the partitions it
rewrites and the published warehouse's view lists exactly the files it reads, so the previous
warehouse keeps reading its own files until the new one is published.

While a model is computed, each dependency with a `partition_by` is shadowed by a view of the
same name in the `_window` schema that keeps only the days the rewritten partitions need
(`search_path` puts `_window` first); dependencies without one are read in full.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from ciwatch_etl.warehouse.materialization import Materialization
from ciwatch_etl.warehouse.models import Model
from ciwatch_etl.warehouse.plan import FULL, ModelPlan
from ciwatch_etl.warehouse.quoting import quote_identifier, quote_literal
from ciwatch_etl.warehouse.state import ModelState, PartitionFile

MODELS_FOLDER = "_models"
WINDOW_SCHEMA = "_window"
COLUMNS_FOLDER = "_columns"


class ModelBuildError(RuntimeError):
    """A model's SQL (or one of its tests) failed against the warehouse being built."""


def model_folder(lake: Path, model: str) -> Path:
    return lake / MODELS_FOLDER / model


@dataclass(frozen=True)
class Refreshed:
    state: ModelState
    changed_from: date | None  # the earliest partition whose rows differ from before (FULL: any)


def refresh_incremental(
    con: duckdb.DuckDBPyConnection,
    model: Model,
    models: Mapping[str, Model],
    plan: ModelPlan,
    before: ModelState | None,
    folder: Path,
    build_id: str,
) -> Refreshed:
    """Rewrite the model's partitions from `plan.rebuild_from` on; keep the rest as they were.

    A rewritten partition whose rows hash the same as before keeps its old file, so the changes
    passed downstream are the partitions that really differ.
    """
    if plan.rebuild_from is None:
        assert before is not None
        return Refreshed(before, None)
    columns_file, written = _write_partitions(con, model, models, plan.rebuild_from, folder, build_id)
    if plan.rebuild_from == FULL or before is None:
        files = [f for day in sorted(written) for f in written[day]]
        return Refreshed(ModelState(plan.fingerprint, (*files, columns_file)), FULL)
    kept: dict[date, list[PartitionFile]] = {}
    for file in before.files:
        if file.partition is not None:
            kept.setdefault(file.partition, []).append(file)
    files, changed = [], []
    for day in sorted(kept.keys() | written.keys()):
        old, new = kept.get(day, []), written.get(day, [])
        if day < plan.rebuild_from or (old and new and old[0].content_hash == new[0].content_hash):
            files += old
            _remove(new)
        else:
            files += new
            changed.append(day)
    _remove([columns_file])
    old_columns = [f for f in before.files if f.partition is None]
    return Refreshed(ModelState(plan.fingerprint, (*files, *old_columns)), min(changed) if changed else None)


def _write_partitions(
    con: duckdb.DuckDBPyConnection,
    model: Model,
    models: Mapping[str, Model],
    rebuild_from: date,
    folder: Path,
    build_id: str,
) -> tuple[PartitionFile, dict[date, list[PartitionFile]]]:
    """Compute `model` for the partitions from `rebuild_from` on (FULL: all) and write them.

    Returns the columns file and, per partition, its files with the hash of its rows.
    """
    column = model.materialization.partition_by
    assert column is not None
    staging = folder / f".{build_id}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        with _window(con, model, models, rebuild_from):
            rows = f"select * from (\n{model.sql}\n)"
            if rebuild_from != FULL:
                rows += f" where {quote_identifier(column)} >= getvariable('ciwatch_rebuild_from')"
                rows += f" or {quote_identifier(column)} is null"
            columns_file = folder / COLUMNS_FOLDER / f"{build_id}.parquet"
            columns_file.parent.mkdir(parents=True, exist_ok=True)
            con.execute(f"copy (select * from ({rows}) limit 0) to {_path(columns_file)} (format parquet)")
            con.execute(
                f"copy ({rows}) to {_path(staging)} (format parquet, partition_by ({quote_identifier(column)}), "
                f"write_partition_columns true, filename_pattern {quote_literal(build_id + '_{i}')})"
            )
        placed = _place(staging, folder, column, model)
        return PartitionFile(None, str(columns_file)), _with_hashes(con, placed, column)
    except duckdb.Error as error:
        raise ModelBuildError(f"model {model.name} ({model.sql_path}) failed: {error}") from error
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _place(staging: Path, folder: Path, column: str, model: Model) -> list[PartitionFile]:
    placed = []
    for written in sorted(staging.glob("*/*.parquet")):
        value = written.parent.name.partition("=")[2]
        if value == "NULL":
            raise ModelBuildError(
                f"model {model.name} ({model.sql_path}): rows with a null {column} (its partition_by column)"
            )
        target = folder / written.parent.name / written.name
        target.parent.mkdir(exist_ok=True)
        os.replace(written, target)
        placed.append(PartitionFile(date.fromisoformat(value), str(target)))
    return placed


def _with_hashes(
    con: duckdb.DuckDBPyConnection, placed: list[PartitionFile], column: str
) -> dict[date, list[PartitionFile]]:
    """Group the written files by partition, each with the order-free hash of its rows."""
    if not placed:
        return {}
    # A sum of row hashes: independent of row order, and duplicate rows still count.
    hashes = dict(
        con.execute(
            f"select {quote_identifier(column)}, count(*)::varchar || ':' || sum(hash(*columns(*)))::varchar "
            f"from read_parquet(?) group by all",
            [[f.path for f in placed]],
        ).fetchall()
    )
    grouped: dict[date, list[PartitionFile]] = {}
    for file in placed:
        grouped.setdefault(file.partition, []).append(dataclasses.replace(file, content_hash=hashes[file.partition]))
    return grouped


def _remove(files: Iterable[PartitionFile]) -> None:
    for file in files:
        Path(file.path).unlink(missing_ok=True)


@contextmanager
def _window(con: duckdb.DuckDBPyConnection, model: Model, models: Mapping[str, Model], rebuild_from: date):
    """Shadow the model's partitioned dependencies by views of the days it needs."""
    if rebuild_from == FULL:
        yield
        return
    con.execute("set variable ciwatch_rebuild_from = ?", [rebuild_from])
    with windowed(con, [models[dep] for dep in model.model_deps], model.materialization.read_from(rebuild_from)):
        yield


@contextmanager
def windowed(con: duckdb.DuckDBPyConnection, models: Iterable[Model], first_day: date):
    """While inside, `models` with a `partition_by` read only their partitions from `first_day` on."""
    schema = quote_identifier(WINDOW_SCHEMA)
    con.execute("set variable ciwatch_read_from = ?", [first_day])
    con.execute(f"create schema {schema}")
    try:
        for model in models:
            bound = _lower_bound(model.materialization)
            if bound is not None:
                name = quote_identifier(model.name)
                con.execute(f"create view {schema}.{name} as select * from main.{name} where {bound}")
        con.execute(f"set search_path = {quote_literal(WINDOW_SCHEMA + ',main')}")
        yield
    finally:
        con.execute("set search_path = 'main'")
        con.execute(f"drop schema {schema} cascade")


def _lower_bound(materialization: Materialization) -> str | None:
    column = materialization.partition_by
    if column is None:
        return None
    day = "getvariable('ciwatch_read_from')"
    if materialization.granularity == "month":
        day = f"date_trunc('month', {day})::date"
    return f"{quote_identifier(column)} >= {day}"


def create_model_view(con: duckdb.DuckDBPyConnection, model: Model, files: list[PartitionFile]) -> None:
    """`main.<model>` over the model's files (the columns file always among them)."""
    listed = ", ".join(quote_literal(f.path) for f in files)
    con.execute(
        f"create view {quote_identifier(model.name)} as "
        f"select * from read_parquet([{listed}], hive_partitioning = false)"
    )


def _path(path: Path) -> str:
    """A path for COPY, which takes no parameters: our own lake paths, quoted as a literal."""
    return quote_literal(str(path))
