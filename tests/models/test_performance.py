"""`metrics performance` and the performance marts on the hand-built history of `delivery_history`:
percentiles equal quantile_cont over the raw rows (daily and weekly marts), MTTR is worked out by
hand, filters narrow, and the command gives the weekly mart's figures for a week."""

from __future__ import annotations

import json
import math

import duckdb
import pytest
from click.testing import CliRunner

from ciwatch_etl.cli import cli
from ciwatch_etl.environment import Paths

# Run durations of the history (workflow stop - first job start), in seconds, by run.
DURATIONS = {
    "A1": 1200, "A2": 1740, "A3": 3540, "A4": 600, "A5": 600, "A6": 2370, "C1": 300,
    "S1": 590, "S2": 590, "S3": 890, "S4": 590, "S5": 1180, "B1": 1800, "B2": 1200, "D1": 300,
}
FAILED = {"A2", "A5", "S2", "S3", "B2"}
SHOP = {"A1", "A2", "A3", "A4", "A5", "A6", "C1", "S1", "S2", "S3", "S4", "S5"}


def linear_quantile(values: list[float], q: float) -> float:
    """quantile_cont by hand: linear interpolation between the order statistics."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def performance(*args: str) -> dict:
    result = CliRunner().invoke(cli, ["metrics", "performance", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)["data"]


def test_headline_figures_equal_the_raw_rows(delivery_home: Paths):
    data = performance("--period-days", "14", "--as-of", "2026-06-14")
    durations = list(DURATIONS.values())
    assert data["runs"] == 15
    assert data["success_rate"] == pytest.approx(10 / 15)
    assert data["duration_p50_seconds"] == pytest.approx(linear_quantile(durations, 0.5))
    assert data["duration_p95_seconds"] == pytest.approx(linear_quantile(durations, 0.95))
    assert data["duration_max_seconds"] == 3540
    assert data["throughput_runs_per_day"] == pytest.approx(15 / 14)
    # red to green on main: build 06-04 12:10 -> 06-06 12:10, deploy 06-03 09:30 -> 12:00 and
    # 06-09 08:10 (a staging failure still breaks the workflow) -> 06-10 14:40
    assert data["mttr_seconds"] == pytest.approx((172800 + 9000 + 109800) / 3)
    assert data["recoveries"] == 3
    with duckdb.connect(str(delivery_home.warehouse), read_only=True) as con:
        p95, queue = con.execute(
            "select quantile_cont(duration_seconds, 0.95), quantile_cont(queue_seconds, 0.95) from int_ci_runs"
        ).fetchone()
    assert data["duration_p95_seconds"] == pytest.approx(p95) and data["queue_p95_seconds"] == pytest.approx(queue)


def test_filters_narrow_to_the_rows_they_name(delivery_home: Paths):
    shop = performance("--period-days", "14", "--as-of", "2026-06-14", "--repo", "shop")
    values = [DURATIONS[r] for r in SHOP]
    assert shop["runs"] == len(SHOP)
    assert shop["success_rate"] == pytest.approx(len(SHOP - FAILED) / len(SHOP))
    assert shop["duration_p95_seconds"] == pytest.approx(linear_quantile(values, 0.95))
    assert {w["workflow_name"] for w in shop["by_workflow"]} == {"deploy", "deploy-staging", "build"}
    assert performance("--period-days", "14", "--as-of", "2026-06-14", "--org", "acme")["runs"] == 15
    none = performance("--period-days", "14", "--as-of", "2026-06-14", "--provider", "sourcecraft")
    assert none["runs"] == 0 and none["success_rate"] is None and none["by_workflow"] == []


def test_the_change_is_against_the_period_before(delivery_home: Paths):
    # June 8-14 against June 1-7
    data = performance("--period-days", "7", "--as-of", "2026-06-14")
    later = ["A4", "A5", "A6", "C1", "B2"]
    earlier = [r for r in DURATIONS if r not in later]
    assert data["runs"] == len(later) and data["previous_period"]["runs"] == len(earlier)
    assert data["previous_period"]["first_day"] == "2026-06-01"
    assert data["change"]["runs"] == len(later) - len(earlier)
    assert data["change"]["duration_p50_seconds"] == pytest.approx(
        linear_quantile([DURATIONS[r] for r in later], 0.5) - linear_quantile([DURATIONS[r] for r in earlier], 0.5)
    )


def test_slowest_jobs_and_daily_percentiles_are_quantile_cont_over_their_rows(delivery: Paths):
    result = CliRunner().invoke(cli, ["metrics", "performance", "--period-days", "14", "--as-of", "2026-06-14"],
                                env={"CIWATCH_HOME": str(delivery.home)})
    slowest = json.loads(result.output)["data"]["slowest_jobs"]
    assert slowest[0]["job_name"] == "deploy-production"  # 1200, 1740, 3540, 2370 s
    assert slowest[0]["duration_p95_seconds"] == pytest.approx(linear_quantile([1200, 1740, 3540, 2370], 0.95))
    with duckdb.connect(str(delivery.warehouse), read_only=True) as con:
        mismatched = con.execute("""
            with raw as (
                select run_date, provider, repo, workflow_name, coalesce(branch, '(none)') as branch,
                    quantile_cont(duration_seconds, 0.5) filter (where is_completed) as p50,
                    quantile_cont(duration_seconds, 0.95) filter (where is_completed) as p95
                from fct_ci_runs group by all
            )
            select count(*) from raw
            join mart_ci_performance_daily as m using (run_date, provider, repo, workflow_name, branch)
            where m.duration_p50_seconds is distinct from raw.p50 or m.duration_p95_seconds is distinct from raw.p95
        """).fetchone()[0]
        days = con.execute("select count(*) from mart_ci_performance_daily").fetchone()[0]
    assert mismatched == 0 and days > 0


# The runs of each week of the history, by the day they were created.
WEEKS = {"2026-06-01": ["A1", "A2", "A3", "S1", "S2", "S3", "S4", "S5", "B1", "D1"],
         "2026-06-08": ["A4", "A5", "A6", "C1", "B2"]}


def test_weekly_percentiles_are_quantile_cont_over_the_weeks_runs(delivery: Paths):
    with duckdb.connect(str(delivery.warehouse), read_only=True) as con:
        overall = dict(con.execute("""
            select period_start::varchar, [runs, duration_p50_seconds, duration_p95_seconds]
            from mart_ci_performance_weekly where scope = 'overall'
        """).fetchall())
        mismatched = con.execute("""
            with raw as (
                select date_trunc('week', run_date)::date as period_start, provider, org, repo, workflow_name,
                    count(*) as runs,
                    quantile_cont(duration_seconds, 0.5) filter (where is_completed) as p50,
                    quantile_cont(duration_seconds, 0.95) filter (where is_completed) as p95,
                    quantile_cont(queue_seconds, 0.95) as queue_p95
                from fct_ci_runs group by all
            )
            select count(*) from raw
            full join (select * from mart_ci_performance_weekly where scope = 'workflow') as m
                using (period_start, provider, org, repo, workflow_name)
            where m.runs is distinct from raw.runs
                or m.duration_p50_seconds is distinct from raw.p50 or m.duration_p95_seconds is distinct from raw.p95
                or m.queue_p95_seconds is distinct from raw.queue_p95
        """).fetchone()[0]
        workflows = con.execute("select count(*) from mart_ci_performance_weekly where scope = 'workflow'").fetchone()
    # week 1: shop deploy and build, api main-pipeline, docs build; week 2: shop deploy and deploy-staging, api
    assert mismatched == 0 and workflows[0] == 7
    for week, runs in WEEKS.items():
        durations = [DURATIONS[r] for r in runs]
        assert overall[week] == [len(runs), pytest.approx(linear_quantile(durations, 0.5)),
                                 pytest.approx(linear_quantile(durations, 0.95))]


def test_metrics_performance_for_a_week_is_the_weekly_marts_rows(delivery_home: Paths):
    data = performance("--period-days", "7", "--as-of", "2026-06-14")
    with duckdb.connect(str(delivery_home.warehouse), read_only=True) as con:
        cursor = con.execute("select * from mart_ci_performance_weekly where period_start = '2026-06-08'")
        names = [d[0] for d in cursor.description]
        mart = {(r["scope"], r["workflow_name"], r["repo"]): r
                for r in (dict(zip(names, values)) for values in cursor.fetchall())}
    measures = ("runs", "success_rate", "duration_p50_seconds", "duration_p95_seconds", "duration_max_seconds",
                "queue_p50_seconds", "queue_p95_seconds")
    (week,) = (row for key, row in mart.items() if key[0] == "overall")
    assert {m: data[m] for m in measures} == {m: pytest.approx(week[m]) for m in measures}
    assert len(data["by_workflow"]) == len(mart) - 1
    for row in data["by_workflow"]:
        expected = mart[("workflow", row["workflow_name"], row["repo"])]
        assert {m: row[m] for m in measures} == {m: pytest.approx(expected[m]) for m in measures}
