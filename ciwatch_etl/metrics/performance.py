"""`metrics performance`: how many runs, how reliable and how fast CI was in one window, and the
change against the period of the same length before it.

Runs count in the window by the day they were created (fct_ci_runs.run_date), jobs by the day
they started. success_rate = successful / completed runs (success, failed, timeout); durations
are over completed runs; percentiles are DuckDB's quantile_cont over those rows, never averages
of daily percentiles. MTTR is the mean red-to-green time of the default-branch streaks
(mart_ci_recoveries) that recovered within the window.
"""

from __future__ import annotations

import duckdb

from ciwatch_etl.metrics.request import MetricsRequest
from ciwatch_etl.metrics.warehouse import one, rows

TOP = 10
HEADLINE = ("runs", "success_rate", "duration_p50_seconds", "duration_p95_seconds", "queue_p95_seconds",
            "mttr_seconds")
RUN_MEASURES = """
    count(*) as runs,
    count_if(is_successful) / nullif(count_if(is_completed), 0) as success_rate,
    quantile_cont(duration_seconds, 0.5) filter (where is_completed) as duration_p50_seconds,
    quantile_cont(duration_seconds, 0.95) filter (where is_completed) as duration_p95_seconds,
    max(duration_seconds) filter (where is_completed) as duration_max_seconds,
    quantile_cont(queue_seconds, 0.5) as queue_p50_seconds,
    quantile_cont(queue_seconds, 0.95) as queue_p95_seconds
"""


def performance(con: duckdb.DuckDBPyConnection, request: MetricsRequest) -> dict[str, object]:
    before = request.previous()
    current, previous = _headline(con, request), _headline(con, before)
    return {
        **request.describe(),
        **current,
        "throughput_runs_per_day": current["runs"] / request.period_days,
        "previous_period": {"first_day": before.first_day.isoformat(), "last_day": before.as_of.isoformat(),
                            **previous},
        "change": {key: _change(current[key], previous[key]) for key in HEADLINE},
        "by_workflow": _by_workflow(con, request),
        "slowest_jobs": _slowest_jobs(con, request),
        "flaky_tests": _flaky_tests(con, request),
    }


def _headline(con: duckdb.DuckDBPyConnection, request: MetricsRequest) -> dict[str, object]:
    where, params = request.window("run_date")
    recovered_where, recovered_params = request.window("recovered_at::date")
    return {
        **one(con, f"select {RUN_MEASURES} from fct_ci_runs where {where}", params),
        **one(con, f"""
            select avg(recovery_seconds) as mttr_seconds, count(*) as recoveries
            from mart_ci_recoveries where is_recovered and {recovered_where}
        """, recovered_params),
    }


def _change(now: object, before: object) -> float | None:
    if now is None or before is None:
        return None
    return now - before


def _by_workflow(con: duckdb.DuckDBPyConnection, request: MetricsRequest) -> list[dict[str, object]]:
    where, params = request.window("run_date")
    return rows(con, f"""
        select provider, org, repo, workflow_name, {RUN_MEASURES}
        from fct_ci_runs
        where {where}
        group by provider, org, repo, workflow_name
        order by runs desc, provider, org, repo, workflow_name
    """, params)


def _slowest_jobs(con: duckdb.DuckDBPyConnection, request: MetricsRequest) -> list[dict[str, object]]:
    where, params = request.window("job_date")
    return rows(con, f"""
        select
            provider, org, repo, workflow_name, job_name,
            count(*) as completed_job_runs,
            quantile_cont(duration_seconds, 0.5) as duration_p50_seconds,
            quantile_cont(duration_seconds, 0.95) as duration_p95_seconds,
            max(duration_seconds) as duration_max_seconds
        from fct_ci_jobs
        where {where} and is_completed and duration_seconds is not null
        group by provider, org, repo, workflow_name, job_name
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
