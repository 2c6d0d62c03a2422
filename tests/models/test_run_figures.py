"""`metrics performance`'s run figures (GROUP BY aggregates, run_figures) against the weekly mart
(window aggregates) on the hand-built history of `delivery_history`: for its last week and the week
before it the same rows, overall and per workflow, to the last digit; an empty period keeps its
overall row; a filter keeps the workflows it names."""

from __future__ import annotations

from datetime import date

import duckdb

from ciwatch_etl.metrics.request import MetricsRequest
from ciwatch_etl.metrics.run_figures import run_figures
from ciwatch_etl.metrics.published_warehouse import rows
from ciwatch_etl.environment import Paths

GRAIN = ("period_start", "scope", "provider", "org", "repo", "workflow_name")
MEASURES = ("runs", "success_rate", "duration_p50_seconds", "duration_p95_seconds", "duration_max_seconds",
            "queue_p50_seconds", "queue_p95_seconds")
# The history's two weeks (06-01: 10 runs, 06-08: 5 runs) and the empty week before them.
LAST_WEEK = MetricsRequest(7, date(2026, 6, 14))
EMPTY_WEEK = MetricsRequest(7, date(2026, 5, 31))


def by_grain(figures: list[dict[str, object]]) -> dict[tuple, dict[str, object]]:
    return {tuple(row[k] for k in GRAIN): {m: row[m] for m in MEASURES} for row in figures}


def test_a_week_and_the_week_before_are_the_weekly_marts_rows(delivery: Paths):
    before = LAST_WEEK.previous()
    with duckdb.connect(str(delivery.warehouse), read_only=True) as con:
        figures = run_figures(con, LAST_WEEK, before)
        mart = rows(con, "select * from mart_ci_performance_weekly where period_start in ($week, $before)",
                    {"week": LAST_WEEK.first_day, "before": before.first_day})
    assert by_grain(figures) == by_grain(mart)
    assert {row["period_start"] for row in figures} == {LAST_WEEK.first_day, before.first_day}


def test_a_period_without_runs_has_its_overall_row_only(delivery: Paths):
    with duckdb.connect(str(delivery.warehouse), read_only=True) as con:
        figures = run_figures(con, EMPTY_WEEK, EMPTY_WEEK.previous())
    assert sorted((row["period_start"], row["scope"], row["runs"]) for row in figures) == [
        (EMPTY_WEEK.previous().first_day, "overall", 0), (EMPTY_WEEK.first_day, "overall", 0)]
    assert all(row[m] is None for row in figures for m in MEASURES if m != "runs")


def test_filters_keep_the_workflows_they_name(delivery: Paths):
    week = MetricsRequest(7, date(2026, 6, 7), repo="shop")
    with duckdb.connect(str(delivery.warehouse), read_only=True) as con:
        figures = run_figures(con, week, week.previous())
        mart = rows(con, "select * from mart_ci_performance_weekly where period_start = $week and repo = 'shop'",
                    {"week": week.first_day})
        runs = con.execute("select count(*) from fct_ci_runs where repo = 'shop' and run_date between $first "
                           "and $last", {"first": week.first_day, "last": week.as_of}).fetchone()[0]
    workflows = [row for row in figures if row["scope"] == "workflow"]
    (overall,) = (row for row in figures if row["scope"] == "overall" and row["period_start"] == week.first_day)
    assert by_grain(workflows) == by_grain(mart)
    assert overall["runs"] == runs == sum(row["runs"] for row in workflows) > 0
