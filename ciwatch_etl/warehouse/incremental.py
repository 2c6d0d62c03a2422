"""Compute an incremental model's changed days, store them as Parquet, read them through one view.

Each day of the model lives in exactly one file under `lake/_models/<model>/`; a file may hold
many days (a full rebuild writes one file for all of them, a nightly one file for the days that
changed), and the model's view reads each file for the days it is the home of. A build never
changes a file: it writes new ones, and the published warehouse's view names exactly the files
and days it reads, so the previous warehouse keeps reading its own files until the new one is
published. An empty file under `_columns/` carries the columns, so a model without rows is typed.

A recomputed day whose rows hash as before keeps its old file and is no change for the models
below. Once a month lies beyond the lookback of every later night, the days of it that nightly
builds spread over several files are gathered into one (`compact`).

While a model is computed, each dependency with a `partition_by` is shadowed by a view of the
same name in the `_window` schema that keeps only the days the rewritten days need
(`search_path` puts `_window` first); dependencies without one are read in full. A full build of a
model with `full_refresh_by: month` runs a month at a time the same way, one file per month, so
its memory is a month's whatever the history.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import groupby
from pathlib import Path

import duckdb

from ciwatch_etl.warehouse.column_types import stored_select
from ciwatch_etl.warehouse.materialization import Materialization
from ciwatch_etl.warehouse.models import Model
from ciwatch_etl.warehouse.plan import FULL, ModelPlan
from ciwatch_etl.warehouse.quoting import quote_identifier, quote_literal
from ciwatch_etl.warehouse.state import DayFile, ModelState

MODELS_FOLDER = "_models"
WINDOW_SCHEMA = "_window"
COLUMNS_FOLDER = "_columns"
_ROWS = "_ciwatch_model_rows"


class ModelBuildError(RuntimeError):
    """A model's SQL (or one of its tests) failed against the warehouse being built."""


def model_folder(lake: Path, model: str) -> Path:
    return lake / MODELS_FOLDER / model


@dataclass(frozen=True)
class Refreshed:
    state: ModelState
    changed_from: date | None  # the earliest day whose rows differ from before (FULL: any)


def refresh_incremental(
    con: duckdb.DuckDBPyConnection,
    model: Model,
    models: Mapping[str, Model],
    plan: ModelPlan,
    before: ModelState | None,
    folder: Path,
    build_id: str,
) -> Refreshed:
    """Recompute the model's days from `plan.rebuild_from` on and store those that changed."""
    if plan.rebuild_from is None:
        assert before is not None
        return Refreshed(before, None)
    column = quote_identifier(model.materialization.partition_by or "")
    folder.mkdir(parents=True, exist_ok=True)
    try:
        with _window(con, model, models, plan.rebuild_from):
            full = plan.rebuild_from == FULL or before is None
            if full and model.materialization.full_refresh_by_month:
                return _write_by_month(con, model, models, plan, folder, build_id)
            rows = stored_select(con, model.sql)
            if plan.rebuild_from != FULL:
                rows += f" where {column} >= getvariable('ciwatch_rebuild_from') or {column} is null"
            if full:
                return _write_all(con, model, plan, rows, folder, build_id)
            con.execute(f"create or replace temp table {_ROWS} as {rows}")
        try:
            return _write_changed(con, model, plan, before, folder, build_id)
        finally:
            con.execute(f"drop table if exists {_ROWS}")
    except duckdb.Error as error:
        raise ModelBuildError(f"model {model.name} ({model.sql_path}) failed: {error}") from error


def _write_all(
    con: duckdb.DuckDBPyConnection, model: Model, plan: ModelPlan, rows: str, folder: Path, build_id: str
) -> Refreshed:
    columns_file = _write_columns(con, rows, folder, build_id)
    days = _write_days(con, model, rows, folder / f"{build_id}.parquet")
    return Refreshed(ModelState(plan.fingerprint, str(columns_file), days), FULL)


def _write_columns(con: duckdb.DuckDBPyConnection, rows: str, folder: Path, build_id: str) -> Path:
    """The empty file that carries the model's columns (a model without rows is still typed)."""
    columns_file = folder / COLUMNS_FOLDER / f"{build_id}.parquet"
    columns_file.parent.mkdir(exist_ok=True)
    con.execute(f"copy (select * from ({rows}) limit 0) to {_literal(columns_file)} (format parquet)")
    return columns_file


def _write_days(con: duckdb.DuckDBPyConnection, model: Model, rows: str, data: Path) -> dict[date, DayFile]:
    """Write `rows` to the file `data` (none if no rows) and hash each of its days."""
    con.execute(f"copy (select * from ({rows}){_in_order(model)}) to {_literal(data)} (format parquet)")
    hashes = _day_hashes(con, model, f"read_parquet({_literal(data)})")
    if not hashes:
        data.unlink()
    return {day: DayFile(str(data), digest) for day, digest in hashes.items()}


def _write_by_month(
    con: duckdb.DuckDBPyConnection, model: Model, models: Mapping[str, Model], plan: ModelPlan, folder: Path,
    build_id: str,
) -> Refreshed:
    """A full build as one file per month, each computed from its dependencies' days within
    `lookback_days` of the month: memory bounded by a month, not the history."""
    deps = [models[dep] for dep in model.model_deps]
    spans = " union all ".join(
        f"select min({quote_identifier(dep.materialization.partition_by)}) as first, "
        f"max({quote_identifier(dep.materialization.partition_by)}) as last from main.{quote_identifier(dep.name)}"
        for dep in deps if dep.materialization.partition_by
    )
    first, last = con.execute(f"select min(first), max(last) from ({spans})").fetchone()
    with windowed(con, deps, date.max, date.min):
        stored = stored_select(con, model.sql)
        columns_file = _write_columns(con, stored, folder, build_id)
    column = quote_identifier(model.materialization.partition_by or "")
    reach = timedelta(days=model.materialization.lookback_days)
    days: dict[date, DayFile] = {}
    month = first.replace(day=1) if first else None
    while month is not None and month <= last:
        month_end = (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        with windowed(con, deps, month - reach, min(month_end + reach, date.max)):
            rows = (f"select * from ({stored}) where {column} between date '{month.isoformat()}' "
                    f"and date '{month_end.isoformat()}'")
            days.update(_write_days(con, model, rows, folder / f"{build_id}-{month:%Y-%m}.parquet"))
        month = month_end + timedelta(days=1)
    return Refreshed(ModelState(plan.fingerprint, str(columns_file), days), FULL)


def _write_changed(
    con: duckdb.DuckDBPyConnection, model: Model, plan: ModelPlan, before: ModelState, folder: Path, build_id: str
) -> Refreshed:
    hashes = _day_hashes(con, model, _ROWS, _stored_types(con, before))
    start = plan.rebuild_from
    assert start is not None
    days = {day: file for day, file in before.days.items() if day < start or day in hashes}
    changed = [day for day, digest in hashes.items() if day not in days or days[day].content_hash != digest]
    removed = [day for day in before.days if day >= start and day not in hashes]
    if changed:
        data = folder / f"{build_id}.parquet"
        con.execute("create or replace temp table _ciwatch_changed_days (day date)")
        con.executemany("insert into _ciwatch_changed_days values (?)", [(day,) for day in changed])
        column = quote_identifier(model.materialization.partition_by or "")
        con.execute(
            f"copy (select * from {_ROWS} where {column} in (select day from _ciwatch_changed_days)"
            f"{_in_order(model)}) "
            f"to {_literal(data)} (format parquet)"
        )
        con.execute("drop table _ciwatch_changed_days")
        days.update({day: DayFile(str(data), hashes[day]) for day in changed})
    first = min(changed + removed, default=None)
    return Refreshed(ModelState(plan.fingerprint, before.columns_file, dict(sorted(days.items()))), first)


def stored_rows(state: ModelState) -> int:
    """The rows of an incremental model, from its days' hashes (`count:sum`): no file is read."""
    return sum(int(file.content_hash.partition(":")[0]) for file in state.days.values())


def _stored_types(con: duckdb.DuckDBPyConnection, before: ModelState) -> dict[str, str]:
    """The model's column types as its Parquet files hold them, which may differ from the types
    computed (DuckDB writes a type Parquet lacks as another: a HUGEINT as DOUBLE)."""
    if before.columns_file is None:
        return {}
    return dict(con.execute(
        f"select column_name, column_type from (describe select * from read_parquet({quote_literal(before.columns_file)}))"
    ).fetchall())


def _day_hashes(
    con: duckdb.DuckDBPyConnection, model: Model, relation: str, stored_types: Mapping[str, str] | None = None
) -> dict[date, str]:
    """Per day, an order-free hash of its rows (a sum of row hashes: duplicate rows still count).

    Values are hashed as stored (`stored_types`: rows just computed are cast to the types their
    Parquet file holds them in, or a count summed as HUGEINT would never hash as its stored DOUBLE
    and every recomputed day would count as changed). Doubles are hashed rounded to 6 decimals:
    sums over the same rows may differ in their last bits from one run to the next (parallel
    aggregation adds in another order), and a difference of two such sums may be 0 one night and
    1e-16 the next; neither is a change.
    """
    column = quote_identifier(model.materialization.partition_by or "")
    computed = con.execute(f"select column_name, column_type from (describe select * from {relation})").fetchall()
    values = []
    for name, computed_type in computed:
        value, kind = quote_identifier(name), (stored_types or {}).get(name, computed_type)
        if kind != computed_type:
            value = f"cast({value} as {kind})"
        values.append(f"round({value}, 6)" if kind == "DOUBLE" else value)
    hashes = dict(
        con.execute(
            f"select {column}, count(*)::varchar || ':' || sum(hash({', '.join(values)}))::varchar "
            f"from {relation} group by all"
        ).fetchall()
    )
    if None in hashes:
        raise ModelBuildError(
            f"model {model.name} ({model.sql_path}): rows with a null {model.materialization.partition_by} "
            "(its partition_by column)"
        )
    return hashes


def compact(
    con: duckdb.DuckDBPyConnection, model: Model, state: ModelState, folder: Path, build_id: str
) -> ModelState:
    """Gather each month that no later night rewrites, and whose days sit in several files, into one file."""
    if not state.days:
        return state
    settled_before = max(state.days) - timedelta(days=model.materialization.lookback_days + 1)
    days = dict(state.days)
    for month, month_days in groupby(sorted(state.days), key=lambda day: day.replace(day=1)):
        month_days = list(month_days)
        if month_days[-1] >= settled_before or len({state.days[d].path for d in month_days}) < 2:
            continue
        data = folder / f"{build_id}-{month:%Y-%m}.parquet"
        column = quote_identifier(model.materialization.partition_by or "")
        con.execute(
            f"copy (select * from ({model_select(model, state)}) where {column} between "
            f"date '{month_days[0].isoformat()}' and date '{month_days[-1].isoformat()}'{_in_order(model)}) "
            f"to {_literal(data)} (format parquet)"
        )
        days.update({day: DayFile(str(data), state.days[day].content_hash) for day in month_days})
    return ModelState(state.fingerprint, state.columns_file, days)


def model_select(model: Model, state: ModelState) -> str:
    """The model's rows: each file read for the days it is the home of (consecutive days as ranges)."""
    column = quote_identifier(model.materialization.partition_by or "")
    by_file: dict[str, list[date]] = {}
    for day, file in sorted(state.days.items()):
        by_file.setdefault(file.path, []).append(day)
    branches = []
    for path, days in by_file.items():
        ranges = " or ".join(
            f"{column} between date '{first.isoformat()}' and date '{last.isoformat()}'"
            for first, last in _ranges(days)
        )
        branches.append(f"select * from read_parquet({quote_literal(path)}) where {ranges}")
    if not branches:
        branches.append(f"select * from read_parquet({quote_literal(state.columns_file or '')})")
    return "\nunion all\n".join(branches)


def _ranges(days: list[date]) -> Iterator[tuple[date, date]]:
    first = previous = days[0]
    for day in days[1:]:
        if day != previous + timedelta(days=1):
            yield first, previous
            first = day
        previous = day
    yield first, previous


def create_model_view(con: duckdb.DuckDBPyConnection, model: Model, state: ModelState) -> None:
    con.execute(f"create view {quote_identifier(model.name)} as\n{model_select(model, state)}")


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
def windowed(con: duckdb.DuckDBPyConnection, models: Iterable[Model], first_day: date, last_day: date = date.max):
    """While inside, `models` with a `partition_by` read only their partitions from `first_day`
    to `last_day`."""
    schema = quote_identifier(WINDOW_SCHEMA)
    con.execute("set variable ciwatch_read_from = ?", [first_day])
    con.execute("set variable ciwatch_read_to = ?", [last_day])
    con.execute(f"create schema {schema}")
    try:
        for model in models:
            bound = _bounds(model.materialization)
            if bound is not None:
                name = quote_identifier(model.name)
                con.execute(f"create view {schema}.{name} as select * from main.{name} where {bound}")
        con.execute(f"set search_path = {quote_literal(WINDOW_SCHEMA + ',main')}")
        yield
    finally:
        con.execute("set search_path = 'main'")
        con.execute(f"drop schema {schema} cascade")


def _bounds(materialization: Materialization) -> str | None:
    column = materialization.partition_by
    if column is None:
        return None
    first, last = "getvariable('ciwatch_read_from')", "getvariable('ciwatch_read_to')"
    if materialization.granularity != "day":
        first = f"date_trunc('{materialization.granularity}', {first})::date"
        last = f"date_trunc('{materialization.granularity}', {last})::date"
    return f"{quote_identifier(column)} between {first} and {last}"


def _in_order(model: Model) -> str:
    """The ORDER BY of the model's `cluster_by` ("" without one)."""
    columns = model.materialization.cluster_by
    return f" order by {', '.join(map(quote_identifier, columns))}" if columns else ""


def _literal(path: Path) -> str:
    """A path for COPY, which takes no parameters: our own lake paths, quoted as a literal."""
    return quote_literal(str(path))
