"""Which days of the models a build's tests read: every row after a full rebuild, else what may
have changed since the last build.

A nightly build tests partitioned models from the first day of the earliest changed month (a
changed week that reaches into the next month counts as that month's), every model over the same
days, so that a test comparing two models (a mart's total against the jobs it sums) sees both over
one span. A view's tests that read the view alone (row rules, unique keys) read it from its own
earliest changed day instead: a view's rows are computed when read from its inputs' rows of the
same days, so a day none of its inputs changed holds the rows the build that changed it last
tested, and only the changed days can break a rule anew. A year's staging view
read from the changed day on is a day of rows, not a month. (A key of a changed day that repeats a
key of an unchanged day is found by the next full rebuild, as one of an earlier month always was.)
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, timedelta

import duckdb

from ciwatch_etl.warehouse.incremental import windowed
from ciwatch_etl.warehouse.models import Model
from ciwatch_etl.warehouse.plan import FULL


def first_tested_days(models: Sequence[Model], changed_from: Mapping[str, date | None]) -> dict[str, date | None]:
    """Per model, the first day its tests read (None: every row; date.max: none)."""
    changed = [changed_from[m.name] for m in models if m.materialization.partition_by]
    if FULL in changed:
        return {m.name: None for m in models}
    first_month = min(
        (_first_month_reaching(m, changed_from[m.name]) for m in models
         if m.materialization.partition_by and changed_from[m.name] is not None),
        default=date.max,
    )
    return {
        m.name: (changed_from[m.name] or date.max) if _tests_read_only_itself(m) else first_month
        for m in models
    }


def _first_month_reaching(model: Model, day: date) -> date:
    """The latest first day of a month from which `model` is read from `day` on.

    A model by week is read from the week its first day falls in, so a week that changed from
    Monday 11-30 is read whole from 12-01 on: the night need not test November for it.
    """
    if model.materialization.granularity == "week":
        day += timedelta(days=6)
    return day.replace(day=1)


def models_read_by(models: Sequence[Model], tested: Sequence[Model]) -> list[Model]:
    """The models whose days the tests of `tested` may read: their own when each of them is a view
    whose tests read only itself, else every model (tests across models)."""
    return list(tested) if all(_tests_read_only_itself(m) for m in tested) else list(models)


def _tests_read_only_itself(model: Model) -> bool:
    return (model.materialization.kind == "view" and model.materialization.partition_by is not None
            and not any(test.reads_other_tables for test in model.tests))


@contextmanager
def reading_from(con: duckdb.DuckDBPyConnection, models: Sequence[Model], first_day: date | None) -> Iterator[None]:
    """While inside, partitioned models read from `first_day` on (None: in full)."""
    if first_day is None:
        yield
        return
    with windowed(con, models, first_day):
        yield
