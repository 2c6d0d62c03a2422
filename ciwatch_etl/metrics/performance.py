"""`metrics performance`: how many runs, how reliable and how fast CI was in one window, and the
change against the period of the same length before it.

The run figures (runs, success rate, duration and queue percentiles, overall and per workflow)
are mart_ci_performance_weekly's, with the window and the period before it in place of the weeks
(run_figures). Jobs count in the window by the day they started; MTTR is the mean red-to-green
time of the default-branch streaks (mart_ci_recoveries) that recovered within the window.
"""

from __future__ import annotations

import duckdb

from ciwatch_etl.metrics.request import MetricsRequest
from ciwatch_etl.metrics.run_figures import run_figures
from ciwatch_etl.metrics.warehouse import one, rows

TOP = 10
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
        "slowest_jobs": _slowest_jobs(con, request),
        "flaky_tests": _flaky_tests(con, request),
    }


def _of(figures: list[dict[str, object]], request: MetricsRequest, scope: str) -> list[dict[str, object]]:
    return [row for row in figures if row["scope"] == scope and row["period_start"] == request.first_day]


def _overall(figures: list[dict[str, object]], request: MetricsRequest) -> dict[str, object]:
    (row,) = _of(figures, request, "overall")
    return {key: row[key] for key in RUN_MEASURES}


def _recoveries(con: duckdb.DuckDBPyConnection, request: MetricsRequest) -> dict[str, object]:
    where, params = request.window("recovered_at::date")
    return one(con, f"""
        select avg(recovery_seconds) as mttr_seconds, count(*) as recoveries
        from mart_ci_recoveries where is_recovered and {where}
    """, params)


def _change(now: object, before: object) -> float | None:
    if now is None or before is None:
        return None
    return now - before


def _slowest_jobs(con: duckdb.DuckDBPyConnection, request: MetricsRequest) -> list[dict[str, object]]:
    where, params = request.window("job_date")
    # One sorted copy of each job's durations serves both percentiles (a year is 5M job runs).
    return rows(con, f"""
        with jobs as (
            select
                provider, org, repo, workflow_name, job_name,
                count(*) as completed_job_runs,
                quantile_cont(duration_seconds, [0.5, 0.95]) as duration_percentiles,
                max(duration_seconds) as duration_max_seconds
            from fct_ci_jobs
            where {where} and is_completed and duration_seconds is not null
            group by provider, org, repo, workflow_name, job_name
        )
        select
            provider, org, repo, workflow_name, job_name, completed_job_runs,
            duration_percentiles[1] as duration_p50_seconds,
            duration_percentiles[2] as duration_p95_seconds,
            duration_max_seconds
        from jobs
        order by duration_p95_seconds desc, provider, org, repo, workflow_name, job_name
        limit {TOP}
    """, params)


def _flaky_tests(con: duckdb.DuckDBPyConnection, request: MetricsRequest) -> list[dict[str, object]]:
    where, params = request.window("last_flaked_at::date")
    return rows(con, f"""
        select provider, org, repo, workflow_name, job_name, classname, test_name, times_flaked,
            time_wasted_seconds, last_flaked_at
        from mart_flaky_tests
        where {where}
        order by times_flaked desc, time_wasted_seconds desc, repo, test_name
        limit {TOP}
    """, params)
