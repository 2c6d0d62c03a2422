"""How many rows each built model has, for the build report, without reading a year of a view.

A table is counted as stored; an incremental model from its days' hashes, which hold each day's
rows. A view with a `partition_by` is counted a partition at a time, and the counts are kept
in the warehouse's state: a view's rows of a day are computed, when read, from its inputs' rows
of the same day (as `tested_days` relies on too), so a partition before the earliest day any of
its inputs changed holds the rows the last build counted, and a nightly build counts only the
partitions from that day on (and rows without a day, which no day's change bounds). A year of
the usage staging view is then a day of rows read, not five million.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import date

import duckdb

from ciwatch_etl.warehouse.incremental import stored_rows
from ciwatch_etl.warehouse.models import Model
from ciwatch_etl.warehouse.plan import FULL, ModelPlan
from ciwatch_etl.warehouse.quoting import quote_identifier
from ciwatch_etl.warehouse.state import BuildState


def count_rows(
    con: duckdb.DuckDBPyConnection, model: Model, plan: ModelPlan, previous: BuildState | None, state: BuildState
) -> int:
    """The model's rows as built; a partitioned view's per partition, the counts kept in `state`
    (the build being written) for the next build."""
    if model.materialization.is_incremental:
        return stored_rows(state.models[model.name])
    if model.materialization.kind != "view" or model.materialization.partition_by is None:
        (rows,) = con.execute(f"select count(*) from {quote_identifier(model.name)}").fetchone()
        return rows
    before = previous.models.get(model.name) if previous else None
    counts = partition_rows(con, model, plan.inputs_changed_from, before.partition_rows if before else None)
    state.models[model.name] = dataclasses.replace(state.models[model.name], partition_rows=counts)
    return sum(counts.values())


def partition_rows(
    con: duckdb.DuckDBPyConnection,
    model: Model,
    changed_from: date | None,
    before: Mapping[date | None, int] | None,
) -> dict[date | None, int]:
    """Rows per partition of the partitioned view `model` (None: rows without one), counting only
    those from `changed_from` (its inputs' earliest change; FULL: all, None: none) when the last
    build's counts `before` are known."""
    column = quote_identifier(model.materialization.partition_by or "")
    view = quote_identifier(model.name)
    if before is None or changed_from == FULL:
        return dict(con.execute(f"select {column}, count(*) from {view} group by all").fetchall())
    if changed_from is None:
        return dict(before)
    first = model.materialization.partition_floor(changed_from)
    kept = {day: rows for day, rows in before.items() if day is not None and day < first}
    recounted = con.execute(
        f"select {column}, count(*) from {view} where {column} >= ? or {column} is null group by all", [first]
    ).fetchall()
    return dict(sorted(kept.items())) | dict(recounted)
