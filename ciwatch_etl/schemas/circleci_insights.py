"""Raw tables of CircleCI Insights (API v2), declared as JSON fields (see `circleci_pipelines`).

Insights keeps about 90 days (hourly series 48 h) and its summaries describe "the last N days as
of today", so the summaries are kept as daily snapshots (`snapshot_date`, the UTC day of the
pull): tomorrow's pull adds a snapshot instead of overwriting today's. Runs and daily series are
facts with their own time and are keyed by it.

Units: Insights durations are seconds (`*_seconds`); credits are Insights' own estimate, not
billing-grade (CircleCI says so), hence `credits_used`, never `*_credits`. The unit of a flaky
test's `time_wasted` is not documented, so the column keeps the API's number as is.
Flaky tests come as the spec's kebab-case keys (`times-flaked`) or the live API's snake_case
(`times_flaked`): keys are normalised to snake_case before these paths are read.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import polars as pl

from ciwatch_etl.schemas.json_rows import JsonField as F
from ciwatch_etl.schemas.json_table import json_table
from ciwatch_etl.schemas.raw_table import RawTable
# The summary fields (context columns) of a test-metrics response
# that `TEST_METRICS` rows hold: the client reads the response by them.
from ciwatch_etl.sources.circleci.insights import (
    TEST_METRICS_SUMMARY_FIELDS,
    pairs_of_test_metrics,
)

# Summary durations, shared by workflow and job metrics.
_DURATIONS = (
    F("duration_min_seconds", "bigint", "metrics.duration_metrics.min", min_value=0),
    F("duration_mean_seconds", "bigint", "metrics.duration_metrics.mean", min_value=0),
    F("duration_median_seconds", "bigint", "metrics.duration_metrics.median", min_value=0),
    F("duration_p95_seconds", "bigint", "metrics.duration_metrics.p95", min_value=0),
    F("duration_max_seconds", "bigint", "metrics.duration_metrics.max", min_value=0),
    F("duration_standard_deviation_seconds", "double", "metrics.duration_metrics.standard_deviation", min_value=0),
)
_RUN_COUNTS = (
    F("total_runs", "bigint", "metrics.total_runs", min_value=0),
    F("successful_runs", "bigint", "metrics.successful_runs", min_value=0),
    F("failed_runs", "bigint", "metrics.failed_runs", min_value=0),
    F("success_rate", "double", "metrics.success_rate", min_value=0),
    F("throughput", "double", "metrics.throughput", min_value=0),
    F("total_credits_used", "bigint", "metrics.total_credits_used", min_value=0),
)
_SNAPSHOT = (
    F("snapshot_date", "date", required=True),
    F("reporting_window", "varchar", required=True),
    F("window_start_at", "timestamp", "window_start"),
    F("window_end_at", "timestamp", "window_end"),
)

WORKFLOW_RUNS = json_table(
    "circleci_insights_workflow_runs", "circleci/insights_workflow_runs", "created_date", ("workflow_id",),
    "One row per CircleCI workflow run as Insights reports it (all branches), kept after Insights forgets it.",
    (
        F("workflow_id", "varchar", "id", required=True),
        F("project_slug", "varchar", required=True),
        F("workflow_name", "varchar", required=True),
        F("branch", "varchar", "branch"),
        F("status", "varchar", "status"),
        F("is_approval", "boolean", "is_approval"),
        F("created_at", "timestamp", "created_at", required=True),
        F("created_date", "date", derived_from="created_at"),
        F("stopped_at", "timestamp", "stopped_at"),
        F("duration_seconds", "bigint", "duration", min_value=0),
        F("credits_used", "bigint", "credits_used", min_value=0),
    ),
)

WORKFLOW_METRICS = json_table(
    "circleci_insights_workflow_metrics", "circleci/insights_workflow_metrics", "snapshot_date",
    ("project_slug", "workflow_name", "snapshot_date", "reporting_window"),
    "One row per CircleCI workflow x reporting window x snapshot day: Insights summary metrics.",
    (
        F("project_slug", "varchar", required=True),
        F("workflow_name", "varchar", "name", required=True),
        F("project_id", "varchar", "project_id"),
        *_SNAPSHOT,
        *_RUN_COUNTS,
        F("median_credits_used", "bigint", "metrics.median_credits_used", min_value=0),
        F("mttr_seconds", "bigint", "metrics.mttr", min_value=0),
        F("total_recoveries", "bigint", "metrics.total_recoveries", min_value=0),
        *_DURATIONS,
        F("duration_total_seconds", "bigint", "metrics.duration_metrics.total_duration", min_value=0),
    ),
)

JOB_METRICS = json_table(
    "circleci_insights_job_metrics", "circleci/insights_job_metrics", "snapshot_date",
    ("project_slug", "workflow_name", "job_name", "snapshot_date", "reporting_window"),
    "One row per CircleCI job x workflow x reporting window x snapshot day: Insights summary metrics.",
    (
        F("project_slug", "varchar", required=True),
        F("workflow_name", "varchar", required=True),
        F("job_name", "varchar", "name", required=True),
        *_SNAPSHOT,
        *_RUN_COUNTS,
        *_DURATIONS,
    ),
)

JOB_TIMESERIES = json_table(
    "circleci_insights_job_timeseries", "circleci/insights_job_timeseries", "interval_date",
    ("project_slug", "workflow_name", "job_name", "interval_start_at"),
    "One row per CircleCI job x workflow x UTC day (default branch): Insights daily time series.",
    (
        F("project_slug", "varchar", required=True),
        F("workflow_name", "varchar", required=True),
        F("job_name", "varchar", "name", required=True),
        F("granularity", "varchar", required=True),
        F("interval_start_at", "timestamp", "timestamp", required=True),
        F("interval_date", "date", derived_from="interval_start_at"),
        F("min_started_at", "timestamp", "min_started_at"),
        F("max_ended_at", "timestamp", "max_ended_at"),
        F("total_runs", "bigint", "metrics.total_runs", min_value=0),
        F("successful_runs", "bigint", "metrics.successful_runs", min_value=0),
        F("failed_runs", "bigint", "metrics.failed_runs", min_value=0),
        F("throughput", "double", "metrics.throughput", min_value=0),
        F("median_credits_used", "bigint", "metrics.median_credits_used", min_value=0),
        F("total_credits_used", "bigint", "metrics.total_credits_used", min_value=0),
        F("duration_min_seconds", "bigint", "metrics.duration_metrics.min", min_value=0),
        F("duration_median_seconds", "bigint", "metrics.duration_metrics.median", min_value=0),
        F("duration_p95_seconds", "bigint", "metrics.duration_metrics.p95", min_value=0),
        F("duration_max_seconds", "bigint", "metrics.duration_metrics.max", min_value=0),
        F("duration_total_seconds", "bigint", "metrics.duration_metrics.total", min_value=0),
    ),
)

_FLAKY_IDENTITY = "workflow_id,job_number,workflow_name,job_name,test_name,classname,file,source"

FLAKY_TESTS = json_table(
    "circleci_insights_flaky_tests", "circleci/insights_flaky_tests", "snapshot_date",
    ("project_slug", "snapshot_date", "flaky_test_id"),
    "One row per flake instance listed by Insights for a project on a snapshot day.",
    (
        F("project_slug", "varchar", required=True),
        F("snapshot_date", "date", required=True),
        F("flaky_test_id", "id", _FLAKY_IDENTITY),
        F("test_name", "varchar", "test_name"),
        F("classname", "varchar", "classname"),
        F("file", "varchar", "file"),
        F("source", "varchar", "source"),
        F("job_name", "varchar", "job_name"),
        F("job_number", "bigint", "job_number", min_value=0),
        F("workflow_id", "varchar", "workflow_id"),
        F("workflow_name", "varchar", "workflow_name"),
        F("workflow_created_at", "timestamp", "workflow_created_at"),
        F("pipeline_number", "bigint", "pipeline_number", min_value=0),
        F("times_flaked", "bigint", "times_flaked", min_value=0),
        F("time_wasted", "bigint", "time_wasted", min_value=0),
        F("total_flaky_tests", "double", min_value=0),
    ),
)

TEST_METRICS = json_table(
    "circleci_insights_test_metrics", "circleci/insights_test_metrics", "snapshot_date",
    ("project_slug", "workflow_name", "snapshot_date", "test_list", "test_id"),
    "One row per test in a workflow's most-failed or slowest list (Insights test metrics, all "
    "branches, last 10 runs) on a snapshot day.",
    (
        F("project_slug", "varchar", required=True),
        F("workflow_name", "varchar", required=True),
        F("snapshot_date", "date", required=True),
        F("test_list", "varchar", required=True),
        F("list_position", "bigint", min_value=1),
        F("test_id", "id", "job_name,test_name,classname,file,source"),
        F("test_name", "varchar", "test_name"),
        F("classname", "varchar", "classname"),
        F("file", "varchar", "file"),
        F("source", "varchar", "source"),
        F("job_name", "varchar", "job_name"),
        F("total_runs", "bigint", "total_runs", min_value=0),
        F("failed_runs", "bigint", "failed_runs", min_value=0),
        F("is_flaky", "boolean", "flaky"),
        F("p95_duration_seconds", "double", "p95_duration", min_value=0),
        *(F(name, "bigint", min_value=0) for name in TEST_METRICS_SUMMARY_FIELDS),
    ),
)

# The per-run counts a test-metrics response also carries, which have no date of their own to
# keep them by.
TEST_METRICS_IGNORED = frozenset({"test_runs"})

TABLES: tuple[RawTable, ...] = tuple(
    t.table for t in (WORKFLOW_RUNS, WORKFLOW_METRICS, JOB_METRICS, JOB_TIMESERIES, FLAKY_TESTS, TEST_METRICS)
)


def rows_of_test_metrics(body: Mapping[str, Any], slug: str, workflow: str, snapshot_date: date) -> pl.DataFrame:
    """One row per test of the most-failed and slowest lists, with the workflow's summary counts."""
    return TEST_METRICS.frame_of(pairs_of_test_metrics(body, slug, workflow, snapshot_date))
