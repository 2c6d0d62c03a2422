"""Which days a build's model tests read: all after a full rebuild, the changed month at night, and
a view's own tests from its own first changed day."""

from datetime import date

import pytest

from ciwatch_etl.warehouse.model_tests import table_tests
from ciwatch_etl.warehouse.models import load_models
from ciwatch_etl.warehouse.plan import FULL
from ciwatch_etl.warehouse.tested_days import first_tested_days, models_read_by

MODELS = load_models()
NAMES = [m.name for m in MODELS]


def _changed(**days: date | None) -> dict[str, date | None]:
    return {name: days.get(name) for name in NAMES}


def test_a_full_rebuild_tests_every_row_of_every_model():
    first = first_tested_days(MODELS, _changed(int_ci_jobs=FULL, stg_circleci__usage_jobs=date(2026, 12, 4)))
    assert set(first.values()) == {None}


def test_a_night_tests_views_from_their_own_changed_day_and_the_rest_from_the_changed_month():
    first = first_tested_days(MODELS, _changed(
        stg_circleci__usage_jobs=date(2026, 12, 4),
        int_job_runs_priced=date(2026, 11, 20),
        int_ci_jobs=date(2026, 11, 20),
        mart_cost_breakdown=date(2026, 12, 4),
    ))
    # views whose tests read only themselves: their own earliest changed day
    assert first["stg_circleci__usage_jobs"] == date(2026, 12, 4)
    # a view nothing reached: none of its days
    assert first["fct_ci_runs"] == date.max
    # incremental models, tables, and tests across models: the first day of the earliest changed month
    assert first["int_ci_jobs"] == date(2026, 11, 1)
    assert first["int_job_runs_priced"] == date(2026, 11, 1)
    assert first["mart_cost_breakdown"] == date(2026, 11, 1)
    assert first["fct_deployments"] == date(2026, 11, 1)


@pytest.mark.parametrize(("week", "first_month"), [
    (date(2026, 11, 30), date(2026, 12, 1)),  # the week reaches into December: read whole from 12-01
    (date(2026, 11, 23), date(2026, 11, 1)),  # a week within November: November is tested
])
def test_a_changed_week_pulls_in_the_month_its_days_reach(week: date, first_month: date):
    first = first_tested_days(MODELS, _changed(mart_ci_performance_weekly=week, int_ci_jobs=date(2026, 12, 3)))
    assert first["int_ci_jobs"] == first_month
    assert first["mart_ci_performance_weekly"] == first_month


def test_a_night_that_changed_nothing_reads_no_days():
    assert set(first_tested_days(MODELS, _changed()).values()) == {date.max}


@pytest.mark.parametrize(("spec", "reads_other_tables"), [
    ({"expression": {"name": "e", "sql": "a >= 0"}}, False),
    ({"expression": {"name": "e", "sql": "a in (select a from other_model)"}}, True),
    ({"query": {"name": "q", "sql": "select * from m join other_model using (a)"}}, True),
    ({"unique": ["a", "b"]}, False),
])
def test_a_test_says_whether_it_reads_other_tables(spec, reads_other_tables):
    (test,) = table_tests("m", [spec])
    assert test.reads_other_tables is reads_other_tables


def test_tests_of_views_that_read_only_themselves_window_only_those_views():
    by_name = {m.name: m for m in MODELS}
    views = [by_name["stg_circleci__usage_jobs"]]
    assert models_read_by(MODELS, views) == views
    across = [by_name["stg_circleci__usage_jobs"], by_name["mart_cost_breakdown"]]
    assert models_read_by(MODELS, across) == MODELS
