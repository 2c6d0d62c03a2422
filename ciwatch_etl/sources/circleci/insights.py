"""CircleCI Insights client (API v2): workflow runs, summary metrics, daily job series, tests.

Insights forgets: runs older than 90 days, daily series older than 90 days, hourly ones after 48 h,
flaky tests after two weeks without a flake. A pull therefore lands what it sees and the lake
keeps it. Runs and series are pulled incrementally from a high-water mark in the lake minus a
lookback (runs that finished after the previous pull was made still get in); summaries and test
lists have no time of their own and are kept as one snapshot per UTC day.

Every query asks for all branches where the endpoint allows it; the job time series cannot
(it only covers the project's default branch). The workflows of a project are the ones its
summary metrics list, plus those already in the lake, so one failing summary does not hide the
runs. Each listing is read whole or not at all (see `json_client.read_listing`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from ciwatch_etl.sources.circleci.json_client import (
    CircleCIJsonClient,
    Listing,
    Page,
    PullResult,
    name_path,
    read_listing,
    slug_path,
    source_key,
)
from ciwatch_etl.sources.http import ApiError
from ciwatch_etl.sources.items import Pair

REPORTING_WINDOWS: tuple[str, ...] = ("last-7-days", "last-30-days", "last-90-days")
RETENTION = timedelta(days=90)  # CircleCI keeps runs and daily series this long
# Start dates are kept an hour inside the retention, so a clock a little ahead of CircleCI's
# never asks for a day it has already forgotten.
RETENTION_MARGIN = timedelta(hours=1)

# The raw tables the listings land in (declared in `schemas.circleci_insights`).
WORKFLOW_RUNS = "circleci_insights_workflow_runs"
WORKFLOW_METRICS = "circleci_insights_workflow_metrics"
JOB_METRICS = "circleci_insights_job_metrics"
JOB_TIMESERIES = "circleci_insights_job_timeseries"
FLAKY_TESTS = "circleci_insights_flaky_tests"
TEST_METRICS = "circleci_insights_test_metrics"

# Test-metrics fields landed from the response around the lists (as context columns), and the
# lists themselves, by the `test_list` name their rows carry.
TEST_METRICS_SUMMARY_FIELDS = (
    "average_test_count", "total_test_runs", "most_failed_tests_extra", "slowest_tests_extra",
)
TEST_METRICS_LISTS = {"most_failed_tests": "most_failed", "slowest_tests": "slowest"}


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def snake_keys(value: Any) -> Any:
    """The spec's kebab-case keys (`times-flaked`) as the live API's snake_case (`times_flaked`)."""
    if isinstance(value, Mapping):
        return {str(k).replace("-", "_"): snake_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [snake_keys(v) for v in value]
    return value


class CircleCIInsightsClient(CircleCIJsonClient):
    """The Insights endpoints, one method each; listings are lazy page iterators."""

    def workflow_metrics(self, slug: str, window: str) -> Iterator[Page]:
        return self.pages(
            f"insights/{slug_path(slug)}/workflows", {"all-branches": "true", "reporting-window": window}
        )

    def workflow_runs(self, slug: str, workflow: str, start: datetime) -> Iterator[Page]:
        # No end-date: "now" is CircleCI's to decide, and a clock behind it would cut runs off.
        return self.pages(
            f"insights/{slug_path(slug)}/workflows/{name_path(workflow)}",
            {"all-branches": "true", "start-date": _iso(start)},
        )

    def job_metrics(self, slug: str, workflow: str, window: str) -> Iterator[Page]:
        return self.pages(
            f"insights/{slug_path(slug)}/workflows/{name_path(workflow)}/jobs",
            {"all-branches": "true", "reporting-window": window},
        )

    def job_timeseries(self, slug: str, workflow: str, start: datetime) -> Iterator[Page]:
        return self.pages(
            f"insights/time-series/{slug_path(slug)}/workflows/{name_path(workflow)}/jobs",
            {"granularity": "daily", "start-date": _iso(start)},
        )

    def flaky_tests(self, slug: str) -> dict[str, Any]:
        """Not paginated; keys normalised to snake_case whichever spelling the server used."""
        return snake_keys(self.get(f"insights/{slug_path(slug)}/flaky-tests"))

    def test_metrics(self, slug: str, workflow: str) -> dict[str, Any]:
        return self.get(
            f"insights/{slug_path(slug)}/workflows/{name_path(workflow)}/test-metrics", {"all-branches": "true"}
        )


@dataclass(frozen=True)
class InsightsState:
    """What the lake already holds, per (project slug, workflow name)."""

    runs_high_water: Mapping[tuple[str, str], datetime] = field(default_factory=dict)
    # The oldest run Insights listed as still in progress (no stopped_at): read again from there.
    runs_unfinished_since: Mapping[tuple[str, str], datetime] = field(default_factory=dict)
    series_high_water: Mapping[tuple[str, str], datetime] = field(default_factory=dict)
    known_workflows: Mapping[str, Iterable[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class InsightsWindow:
    """How far back to read: `history_days` on a first pull, `lookback_days` before the mark after."""

    now: datetime  # timezone-aware UTC
    history_days: int = 90
    lookback_days: int = 3
    reporting_windows: tuple[str, ...] = REPORTING_WINDOWS

    @property
    def snapshot_date(self) -> date:
        return self.now.astimezone(timezone.utc).date()

    def start(self, high_water: datetime | None, unfinished_since: datetime | None = None) -> datetime:
        """Where a listing starts: marks in the lake are naive UTC; never before Insights' retention."""
        oldest = self.now - RETENTION + RETENTION_MARGIN
        if high_water is None:
            wanted = self.now - timedelta(days=self.history_days)
        else:
            wanted = high_water.replace(tzinfo=timezone.utc) - timedelta(days=self.lookback_days)
        if unfinished_since is not None:
            wanted = min(wanted, unfinished_since.replace(tzinfo=timezone.utc))
        return max(wanted, oldest)


def pull_insights(
    client: CircleCIInsightsClient, slugs: Iterable[str], window: InsightsWindow, state: InsightsState
) -> PullResult:
    """Every Insights table for every project; failures are noted per project, request and page."""
    result = PullResult()
    for slug in slugs:
        _ProjectPull(client, slug, window, state, result).run()
    return result


class _ProjectPull:
    def __init__(
        self, client: CircleCIInsightsClient, slug: str, window: InsightsWindow, state: InsightsState,
        result: PullResult,
    ):
        self.client, self.slug, self.window, self.state, self.result = client, slug, window, state, result
        self.day = window.snapshot_date.isoformat()

    def run(self) -> None:
        names = self.workflow_metrics()
        self.flaky_tests()
        for workflow in sorted(names | set(self.state.known_workflows.get(self.slug, ()))):
            self.workflow_runs(workflow)
            self.job_metrics(workflow)
            self.job_timeseries(workflow)
            self.test_metrics(workflow)

    def _listing(self, request: str, pages: Iterator[Page]) -> Listing | None:
        try:
            return read_listing(pages)
        except ApiError as exc:
            self.result.fail(self.slug, request, exc)
            return None

    def _single(self, request: str, call: Callable[[], dict[str, Any]]) -> dict[str, Any] | None:
        try:
            return call()
        except ApiError as exc:
            self.result.fail(self.slug, request, exc)
            return None

    def workflow_metrics(self) -> set[str]:
        names: set[str] = set()
        for reporting_window in self.window.reporting_windows:
            request = f"GET insights/{self.slug}/workflows ({reporting_window})"
            listing = self._listing(request, self.client.workflow_metrics(self.slug, reporting_window))
            if listing is None:
                continue
            names |= {item["name"] for item in listing.items if isinstance(item.get("name"), str)}
            context = {"project_slug": self.slug, "snapshot_date": self.window.snapshot_date,
                       "reporting_window": reporting_window}
            self.result.add(
                WORKFLOW_METRICS, listing.items, context, listing.source_name(request),
                source_key("workflow_metrics", self.slug, reporting_window, self.day),
            )
        return names

    def workflow_runs(self, workflow: str) -> None:
        key = (self.slug, workflow)
        start = self.window.start(self.state.runs_high_water.get(key), self.state.runs_unfinished_since.get(key))
        request = f"GET insights/{self.slug}/workflows/{workflow} (from {_iso(start)})"
        listing = self._listing(request, self.client.workflow_runs(self.slug, workflow, start))
        if listing is not None:
            context = {"project_slug": self.slug, "workflow_name": workflow}
            self.result.add(
                WORKFLOW_RUNS, listing.items, context, listing.source_name(request),
                source_key("workflow_runs", self.slug, workflow, self.day),
            )

    def job_metrics(self, workflow: str) -> None:
        for reporting_window in self.window.reporting_windows:
            request = f"GET insights/{self.slug}/workflows/{workflow}/jobs ({reporting_window})"
            listing = self._listing(request, self.client.job_metrics(self.slug, workflow, reporting_window))
            if listing is None:
                continue
            context = {"project_slug": self.slug, "workflow_name": workflow,
                       "snapshot_date": self.window.snapshot_date, "reporting_window": reporting_window}
            self.result.add(
                JOB_METRICS, listing.items, context, listing.source_name(request),
                source_key("job_metrics", self.slug, workflow, reporting_window, self.day),
            )

    def job_timeseries(self, workflow: str) -> None:
        start = self.window.start(self.state.series_high_water.get((self.slug, workflow)))
        request = f"GET insights/time-series/{self.slug}/workflows/{workflow}/jobs (daily, from {_iso(start)})"
        listing = self._listing(request, self.client.job_timeseries(self.slug, workflow, start))
        if listing is not None:
            context = {"project_slug": self.slug, "workflow_name": workflow, "granularity": "daily"}
            self.result.add(
                JOB_TIMESERIES, listing.items, context, listing.source_name(request),
                source_key("job_timeseries", self.slug, workflow, self.day),
            )

    def flaky_tests(self) -> None:
        request = f"GET insights/{self.slug}/flaky-tests"
        body = self._single(request, lambda: self.client.flaky_tests(self.slug))
        if body is None:
            return
        context = {"project_slug": self.slug, "snapshot_date": self.window.snapshot_date,
                   "total_flaky_tests": body.get("total_flaky_tests")}
        self.result.add(
            FLAKY_TESTS, body.get("flaky_tests") or [], context, request,
            source_key("flaky_tests", self.slug, self.day),
        )

    def test_metrics(self, workflow: str) -> None:
        request = f"GET insights/{self.slug}/workflows/{workflow}/test-metrics"
        body = self._single(request, lambda: self.client.test_metrics(self.slug, workflow))
        if body is None:
            return
        self.result.add_pairs(
            TEST_METRICS, pairs_of_test_metrics(body, self.slug, workflow, self.window.snapshot_date), request,
            source_key("test_metrics", self.slug, workflow, self.day),
        )


def pairs_of_test_metrics(body: Mapping[str, Any], slug: str, workflow: str, snapshot_date: date) -> list[Pair]:
    """One item per test of the most-failed and slowest lists, with the workflow's summary counts."""
    summary = {name: body.get(name) for name in TEST_METRICS_SUMMARY_FIELDS}
    return [
        (
            item,
            {"project_slug": slug, "workflow_name": workflow, "snapshot_date": snapshot_date,
             "test_list": test_list, "list_position": position, **summary},
        )
        for list_key, test_list in TEST_METRICS_LISTS.items()
        for position, item in enumerate(body.get(list_key) or [], start=1)
    ]
