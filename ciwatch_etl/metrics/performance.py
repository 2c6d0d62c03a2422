"""`metrics performance`: how many runs, how reliable and how fast CI was in one window, and the
change against the period of the same length before it.

The run figures (runs, success rate, duration and queue percentiles, overall and per workflow)
are mart_ci_performance_weekly's, with the window and the period before it in place of the weeks
(run_figures). Jobs count in the window by the day they started; MTTR is the mean red-to-green
time of the default-branch streaks (mart_ci_recoveries) that recovered within the window. The
queries are `dbt_like_sql/metrics/performance_*.sql`.
"""

from __future__ import annotations

import duckdb

from ciwatch_etl.metrics.request import MetricsRequest
from ciwatch_etl.metrics.run_figures import run_figures
from ciwatch_etl.metrics.sql_files import metric_sql, query

HEADLINE = ("runs", "success_rate", "duration_p50_seconds", "duration_p95_seconds", "queue_p95_seconds",
            "mttr_seconds")
RUN_MEASURES = ("runs", "success_rate", "duration_p50_seconds", "duration_p95_seconds", "duration_max_seconds",
                "queue_p50_seconds", "queue_p95_seconds")


def performance(con: duckdb.DuckDBPyConnection, request: MetricsRequest) -> dict[str, object]:
    before = request.previous()
    figures = run_figures(con, request, before)
    current = {**_overall(figures, request), **_recoveries(con, request)}
    previous = {**_overall(figures, before), **_recoveries(con, before)}
    return {
        **request.describe(),
        **current,
        "throughput_runs_per_day": current["runs"] / request.period_days,
        "previous_period": {"first_day": before.first_day.isoformat(), "last_day": before.as_of.isoformat(),
                            **previous},
        "change": {key: _change(current[key], previous[key]) for key in HEADLINE},
        "by_workflow": [{key: row[key] for key in ("provider", "org", "repo", "workflow_name", *RUN_MEASURES)}
                        for row in _of(figures, request, "workflow")],
        "slowest_jobs": query(con, metric_sql("performance_slowest_jobs"), request.params()),
        "flaky_tests": query(con, metric_sql("performance_flaky_tests"), request.params()),
    }


def _of(figures: list[dict[str, object]], request: MetricsRequest, scope: str) -> list[dict[str, object]]:
    return [row for row in figures if row["scope"] == scope and row["period_start"] == request.first_day]


def _overall(figures: list[dict[str, object]], request: MetricsRequest) -> dict[str, object]:
    (row,) = _of(figures, request, "overall")
    return {key: row[key] for key in RUN_MEASURES}


def _recoveries(con: duckdb.DuckDBPyConnection, request: MetricsRequest) -> dict[str, object]:
    (row,) = query(con, metric_sql("performance_recoveries"), request.params())
    return row


def _change(now: object, before: object) -> float | None:
    if now is None or before is None:
        return None
    return now - before
