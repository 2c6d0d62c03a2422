"""The run figures of `metrics performance`: for a window and the period before it, overall and per
workflow, how many runs, how reliable and how fast (fct_ci_runs).

The definitions are mart_ci_performance_weekly's, with the two periods in place of the weeks:
success_rate = successful / completed runs (success, failed, timeout); durations are over completed
runs, queue times over runs that report one, both DuckDB's quantile_cont over the period's runs; a
period without runs has its overall row, with no runs. The mart takes its percentiles as window
aggregates, so that the build's year of weeks fits its memory limit; two periods of at most 365
days fit a GROUP BY, which sorts no rows by their workflow: on a year's 895k runs it answers in
0.19 s against the mart's SQL's 0.8 s, and the command peaks at 209 MiB against 486 MiB.
tests/models/test_run_figures.py holds the two to the same rows. The query is
`dbt_like_sql/metrics/performance_run_figures.sql`.
"""

from __future__ import annotations

import duckdb

from ciwatch_etl.metrics.request import MetricsRequest
from ciwatch_etl.metrics.sql_files import metric_sql, query


def run_figures(con: duckdb.DuckDBPyConnection, request: MetricsRequest,
                before: MetricsRequest) -> list[dict[str, object]]:
    """One row per period (the window, `before`) and scope ('overall', else 'workflow' per provider,
    org, repo and workflow_name), busiest first."""
    return query(con, metric_sql("performance_run_figures"), request.params() | {
        "previous_first_day": before.first_day, "previous_last_day": before.as_of,
    })
