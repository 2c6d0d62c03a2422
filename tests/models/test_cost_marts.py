"""Cost and waste marts and `metrics costs` on the hand-built month of `cost_month`, whose
docstring works out every figure by hand."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from cost_month import FLAKY_TEST, JUNE_10, PRICE, june_rows
from lake_rows import write_rows

from ciwatch_etl.cli import cli
from ciwatch_etl.landing.tables import CIRCLECI_USAGE_JOBS
from ciwatch_etl.schemas.circleci_insights import FLAKY_TESTS
from ciwatch_etl.environment import Paths
from ciwatch_etl.warehouse.build import build_warehouse


def metrics_costs(*args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(cli, ["metrics", "costs", *args])
    return result.exit_code, json.loads(result.output)


def test_each_job_run_lands_in_the_category_worked_out_by_hand(june: Paths):
    with duckdb.connect(str(june.warehouse), read_only=True) as con:
        items = con.execute(
            "select category, item_id, waste_credits from mart_credit_waste "
            "where category <> 'queue_wait' order by category, item_id"
        ).fetchall()
        queue = con.execute(
            "select item_id, queue_seconds, waste_usd from mart_credit_waste where category = 'queue_wait' order by item_id"
        ).fetchall()
    heavy_saved = [("overprovisioned", f"r{n}", 20.0) for n in (1, 11, 2, 3, 4, 5, 6, 7, 8, 9)]
    assert items == [
        ("canceled", "j7", 12.0),
        ("failed", "j8", 30.0),
        ("failed", "r10", 40.0),
        ("flaky_test", "j1", 50.0),
        *sorted(heavy_saved),
        ("rerun", "j4", 20.0),
        ("superseded", "j5", pytest.approx(25.0)),
    ]
    assert queue == [("w1", 60.0, pytest.approx(1.25)), ("w3", 30.0, pytest.approx(0.625)),
                     ("w4", 30.0, pytest.approx(0.625))]


def test_rightsizing_recommends_the_next_smaller_class_with_its_savings(june: Paths):
    with duckdb.connect(str(june.warehouse), read_only=True) as con:
        rows = con.execute("""
            select usage_month, job_name, resource_class, suggested_resource_class, job_runs, measured_job_runs,
                avg_cpu_pct, max_cpu_pct, avg_ram_pct, max_ram_pct, compute_credits, savable_credits, savable_usd,
                days_covered, savable_credits_per_30_days
            from mart_rightsizing_recommendations
        """).fetchall()
    # 11 days of June have usage data: 200 / 11 x 30 a month
    assert rows == [(date(2026, 6, 1), "heavy", "xlarge", "large", 11, 10, 20.0, 35.0, 25.0, 38.0, 440.0, 200.0,
                     pytest.approx(2.0), 11, pytest.approx(200 / 11 * 30))]


def test_metrics_costs_gives_the_hand_computed_figures(june: Paths):
    code, body = metrics_costs("--period-days", "30", "--as-of", "2026-06-30")
    assert code == 0
    data = body["data"]
    assert (data["period_days"], data["first_day"], data["last_day"]) == (30, "2026-06-01", "2026-06-30")
    assert data["credit_price_usd"] == PRICE
    assert data["total_credits"] == 812 and data["total_cost_usd"] == 8.12 and data["estimated_cost_usd"] == 0
    assert data["by_provider"] == [{"provider": "circleci", "credits": 812, "cost_usd": 8.12, "is_estimate": False}]
    assert data["by_project"] == [{"provider": "circleci", "org": "acme", "repo": "api", "credits": 812,
                                   "cost_usd": 8.12, "is_estimate": False, "waste_credits": 377, "waste_usd": 3.77}]
    assert data["waste"] == {
        "flaky_test_credits": 50, "flaky_test_usd": 0.5,
        "failed_credits": 70, "failed_usd": 0.7,
        "canceled_credits": 12, "canceled_usd": 0.12,
        "rerun_credits": 20, "rerun_usd": 0.2,
        "superseded_credits": 25, "superseded_usd": 0.25,
        "overprovisioned_savable_credits": 200, "overprovisioned_savable_usd": 2.0,
        "queue_wait_usd": 2.5, "queue_wait_hours": pytest.approx(120 / 3600),
        "total_waste_credits": 377, "total_waste_usd": 3.77,
    }
    (recommendation,) = data["recommendations"]
    assert recommendation == {
        "provider": "circleci", "org": "acme", "repo": "api", "workflow_name": "heavy", "job_name": "heavy",
        "executor": "docker", "resource_class": "xlarge", "suggested_resource_class": "large",
        "evaluated_month": "2026-06-01", "measured_job_runs": 10, "avg_cpu_pct": 20.0, "max_cpu_pct": 35.0,
        "avg_ram_pct": 25.0, "max_ram_pct": 38.0, "savable_credits": 200, "savable_usd": 2.0,
        "savable_credits_per_month": 200, "savable_usd_per_month": 2.0,
    }


def test_a_window_and_filters_narrow_the_figures(june: Paths):
    # June 10 alone: everything but ten of the heavy runs (r10, failed, ran that day)
    code, body = metrics_costs("--period-days", "1", "--as-of", "2026-06-10")
    assert code == 0
    assert body["data"]["total_credits"] == 362 + 40
    assert body["data"]["waste"]["total_waste_credits"] == 50 + 70 + 12 + 20 + 25
    code, body = metrics_costs("--as-of", "2026-06-30", "--provider", "gocdnext")
    assert code == 0 and body["data"]["total_credits"] == 0 and body["data"]["recommendations"] == []
    for args in (("--org", "globex"), ("--repo", "web")):  # names the warehouse does not know
        code, body = metrics_costs("--as-of", "2026-06-30", *args)
        assert code == 2 and body["error"]["code"] == "not_found"
    code, body = metrics_costs("--as-of", "2026-06-30", "--org", "acme", "--repo", "api", "--provider", "circleci")
    assert body["data"]["total_credits"] == 812


def test_without_insights_a_failure_that_passed_on_rerun_stays_failed(ciwatch_home: Path):
    paths = Paths(ciwatch_home)
    write_rows(paths.lake, CIRCLECI_USAGE_JOBS, june_rows())
    build_warehouse(paths, PRICE)
    code, body = metrics_costs("--as-of", "2026-06-30")
    waste = body["data"]["waste"]
    assert (waste["flaky_test_credits"], waste["failed_credits"], waste["total_waste_credits"]) == (0, 120, 377)


def test_a_flaky_snapshot_more_than_14_days_after_the_run_does_not_count(ciwatch_home: Path):
    paths = Paths(ciwatch_home)
    write_rows(paths.lake, CIRCLECI_USAGE_JOBS, june_rows())
    write_rows(paths.lake, FLAKY_TESTS.table, [FLAKY_TEST | {"snapshot_date": JUNE_10 + timedelta(days=15)}])
    build_warehouse(paths, PRICE)
    code, body = metrics_costs("--as-of", "2026-06-30")
    assert body["data"]["waste"]["flaky_test_credits"] == 0
