"""Insights: workflow and job metrics, workflow runs, job time series, flaky tests, test metrics.

Everything covers only the last `retention_days` before "now" (90 by default, as CircleCI), and
hourly time series only the last 48 hours. Branch scope as in the spec: the default branch
(`main`) unless `branch` names another or `all-branches=true` (which wins if both are given).

Numbers agree with the usage export where they should: a run's `credits_used` is the compute
credits of its finished jobs (see `insights_metrics`), a summary's `total_credits_used` the sum
of its runs' `credits_used`. A run still in progress at "now" is listed with `status`,
`stopped_at` and `duration` null (the spec's statuses have no "running"), and counts towards
`total_runs` only.

Last pages: workflow runs and job metrics leave `next_page_token` out, the workflow summary and
the time series say null.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import unquote

from ciwatch_etl.simulator.circleci.circleci_api import PROJECT_SLUG, Route, message
from ciwatch_etl.simulator.circleci.entities import Job, Project, Workflow
from ciwatch_etl.simulator.http_base import Request, Response
from ciwatch_etl.simulator.circleci.insights_metrics import (
    duration_metrics,
    insights_credits,
    median_int,
)
from ciwatch_etl.simulator.circleci.insights_tests import flaky_tests, test_metrics
from ciwatch_etl.simulator.circleci.pagination import (
    METRICS_PAGE_SIZE,
    WORKFLOW_RUNS_PAGE_SIZE,
    Key,
    LastPage,
    decode_token,
    envelope,
    newest_first_by_day,
    page_of,
)
from ciwatch_etl.simulator.circleci.pipelines_api import PROJECT_NOT_FOUND
from ciwatch_etl.simulator.circleci.timeline import Timeline
from ciwatch_etl.simulator.circleci.wire import (
    BadRequest,
    boolean_param,
    choice_param,
    date_time_param,
    iso_ms,
)

REPORTING_WINDOWS = {
    "last-24-hours": timedelta(hours=24),
    "last-7-days": timedelta(days=7),
    "last-30-days": timedelta(days=30),
    "last-60-days": timedelta(days=60),
    "last-90-days": timedelta(days=90),
}
HOURLY_RETENTION = timedelta(hours=48)
MAX_DATE_RANGE = timedelta(days=90)  # "end-date can be at most 90 days after the start-date"
_WORKFLOW = r"/workflows/(?P<name>[^/]+)"

BranchFilter = Callable[[str], bool]


def _branch_filter(params: dict[str, str], project: Project, *, all_branches_allowed: bool = True) -> BranchFilter:
    """Runs of the `branch` asked for, else of the project's default branch (or of all branches)."""
    if all_branches_allowed and boolean_param(params, "all-branches"):
        return lambda branch: True
    wanted = params.get("branch") or project.default_branch
    return lambda branch: branch == wanted


def _run_key(workflow: Workflow) -> Key:
    return iso_ms(workflow.created_at), workflow.id


def _seconds(start: datetime, stop: datetime) -> int:
    return round((stop - start).total_seconds())


class InsightsApi:
    def __init__(self, timeline: Timeline, seed: int, retention_days: int) -> None:
        if retention_days < 1:
            raise ValueError(f"insights_retention_days must be at least 1, got {retention_days}")
        self._timeline = timeline
        self._seed = seed
        self._retention = timedelta(days=retention_days)

    def routes(self) -> list[Route]:
        # The time-series path first: it must not be read as a project slug.
        return [
            Route("GET", re.compile(rf"/insights/time-series/{PROJECT_SLUG}{_WORKFLOW}/jobs"), self.job_time_series),
            Route("GET", re.compile(rf"/insights/{PROJECT_SLUG}/workflows"), self.workflow_metrics),
            Route("GET", re.compile(rf"/insights/{PROJECT_SLUG}{_WORKFLOW}"), self.workflow_runs),
            Route("GET", re.compile(rf"/insights/{PROJECT_SLUG}{_WORKFLOW}/jobs"), self.job_metrics),
            Route("GET", re.compile(rf"/insights/{PROJECT_SLUG}{_WORKFLOW}/test-metrics"), self.test_metrics),
            Route("GET", re.compile(rf"/insights/{PROJECT_SLUG}/flaky-tests"), self.flaky_tests),
        ]

    # -- endpoints -----------------------------------------------------------------------------

    def workflow_metrics(self, request: Request, match: re.Match[str]) -> Response:
        project = self._project(match)
        if project is None:
            return message(404, PROJECT_NOT_FOUND)
        params = request.params
        window = self._reporting_window(params)
        after = decode_token(params)
        runs = self._runs(project, branch_ok=_branch_filter(params, project), start=self._now - window)
        by_name: defaultdict[str, list[Workflow]] = defaultdict(list)
        for run in runs:
            by_name[run.name].append(run)
        names, next_key = page_of(sorted(by_name), lambda n: (n,), after, METRICS_PAGE_SIZE, descending=False)
        items = [self._workflow_summary(project, name, by_name[name], window) for name in names]
        return Response.json(200, envelope(items, next_key, LastPage.NULL))

    def workflow_runs(self, request: Request, match: re.Match[str]) -> Response:
        project = self._project(match)
        if project is None:
            return message(404, PROJECT_NOT_FOUND)
        params = request.params
        start, end = self._date_range(params)
        after = decode_token(params)
        runs = self._runs(project, name=_workflow_name(match), branch_ok=_branch_filter(params, project),
                          start=start, end=end, after=after)
        page, next_key = page_of(runs, _run_key, after, WORKFLOW_RUNS_PAGE_SIZE)
        return Response.json(200, envelope([self._run_json(w) for w in page], next_key, LastPage.ABSENT))

    def job_metrics(self, request: Request, match: re.Match[str]) -> Response:
        project = self._project(match)
        if project is None:
            return message(404, PROJECT_NOT_FOUND)
        params = request.params
        window = self._reporting_window(params)
        after = decode_token(params)
        wanted = params.get("job-name", "")  # "the full job name or just a substring of the job name"
        by_name: defaultdict[str, list[Job]] = defaultdict(list)
        runs = self._runs(project, name=_workflow_name(match), branch_ok=_branch_filter(params, project),
                          start=self._now - window)
        for run in runs:
            for job in self._timeline.jobs(run):
                if wanted in job.name:
                    by_name[job.name].append(job)
        names, next_key = page_of(sorted(by_name), lambda n: (n,), after, METRICS_PAGE_SIZE, descending=False)
        items = [self._job_summary(name, by_name[name], window) for name in names]
        return Response.json(200, envelope(items, next_key, LastPage.ABSENT))

    def job_time_series(self, request: Request, match: re.Match[str]) -> Response:
        project = self._project(match)
        if project is None:
            return message(404, PROJECT_NOT_FOUND)
        params = request.params
        hourly = choice_param(params, "granularity", ("daily", "hourly"), "daily") == "hourly"
        bucket = timedelta(hours=1) if hourly else timedelta(days=1)
        oldest = self._now - (HOURLY_RETENTION if hourly else self._retention)
        start, end = self._date_range(params, oldest=oldest)
        # A job starts after its workflow is created: look a day further back for workflows.
        branch_ok = _branch_filter(params, project, all_branches_allowed=False)  # the spec has no all-branches here
        runs = self._runs(project, name=_workflow_name(match), branch_ok=branch_ok,
                          start=start - timedelta(days=1), end=end)
        buckets: defaultdict[tuple[datetime, str], list[Job]] = defaultdict(list)
        for run in runs:
            for job in self._timeline.jobs(run):
                if self._timeline.is_finished(job) and start <= job.started_at < (end or self._now):
                    at = job.started_at.replace(minute=0, second=0, microsecond=0)
                    buckets[(at if hourly else at.replace(hour=0), job.name)].append(job)
        items = [self._time_series_item(at, name, jobs, bucket) for (at, name), jobs in sorted(buckets.items())]
        return Response.json(200, envelope(items, None, LastPage.NULL))

    def flaky_tests(self, request: Request, match: re.Match[str]) -> Response:
        project = self._project(match)
        if project is None:
            return message(404, PROJECT_NOT_FOUND)
        return Response.json(200, flaky_tests(self._timeline, self._seed, project, self._oldest))

    def test_metrics(self, request: Request, match: re.Match[str]) -> Response:
        project = self._project(match)
        if project is None:
            return message(404, PROJECT_NOT_FOUND)
        runs = self._runs(project, name=_workflow_name(match), branch_ok=_branch_filter(request.params, project),
                          start=self._oldest)
        flaky = {(i["job_name"], i["classname"], i["test_name"])
                 for i in flaky_tests(self._timeline, self._seed, project, self._oldest)["flaky_tests"]}
        return Response.json(200, test_metrics(self._timeline, self._seed, runs, flaky))

    # -- selection -----------------------------------------------------------------------------

    @property
    def _now(self) -> datetime:
        return self._timeline.now

    @property
    def _oldest(self) -> datetime:
        return self._now - self._retention

    def _project(self, match: re.Match[str]) -> Project | None:
        return self._timeline.project(match["slug"])

    def _reporting_window(self, params: dict[str, str]) -> timedelta:
        return REPORTING_WINDOWS[choice_param(params, "reporting-window", tuple(REPORTING_WINDOWS), "last-90-days")]

    def _date_range(self, params: dict[str, str], oldest: datetime | None = None) -> tuple[datetime, datetime | None]:
        """[start-date, end-date) clipped to what Insights still keeps; end None means up to now."""
        start, end = date_time_param(params, "start-date"), date_time_param(params, "end-date")
        if end is not None and start is None:
            raise BadRequest("start-date must be specified if an end-date is provided.")
        if start is not None and end is not None:
            if end < start:
                raise BadRequest("end-date must not be before start-date.")
            if end - start > MAX_DATE_RANGE:
                raise BadRequest("end-date can be at most 90 days after the start-date.")
        floor = oldest or self._oldest
        return max(start or floor, floor), end

    def _runs(self, project: Project, *, branch_ok: BranchFilter, start: datetime, end: datetime | None = None,
              name: str | None = None, after: Key | None = None) -> Iterable[Workflow]:
        """Visible runs created in [start, end) within the Insights window, newest first."""
        timeline = self._timeline
        start = max(start, self._oldest)
        days = [d for d in timeline.days_newest_first() if start.date() <= d and (end is None or d <= end.date())]

        def on(day):
            return [w for w in timeline.workflows_created_on(project, day)
                    if (name is None or w.name == name) and branch_ok(w.pipeline.branch)
                    and start <= w.created_at and (end is None or w.created_at < end)]

        return newest_first_by_day(days, on, _run_key, after)

    # -- rendering -----------------------------------------------------------------------------

    def _finished_jobs(self, workflow: Workflow) -> list[Job]:
        return [j for j in self._timeline.jobs(workflow) if self._timeline.is_finished(j)]

    def _run_json(self, workflow: Workflow) -> dict[str, Any]:
        finished = self._timeline.is_finished(workflow)
        return {
            "id": workflow.id,
            "branch": workflow.pipeline.branch,
            "duration": _seconds(workflow.created_at, workflow.stopped_at) if finished else None,
            "created_at": iso_ms(workflow.created_at),
            "stopped_at": iso_ms(workflow.stopped_at) if finished else None,
            "credits_used": insights_credits(self._finished_jobs(workflow)),
            "status": workflow.status if finished else None,
            "is_approval": False,
        }

    def _workflow_summary(self, project: Project, name: str, runs: list[Workflow], window: timedelta) -> dict[str, Any]:
        finished = sorted((w for w in runs if self._timeline.is_finished(w)), key=lambda w: w.created_at)
        durations = [_seconds(w.created_at, w.stopped_at) for w in finished]
        credits = [insights_credits(self._finished_jobs(w)) for w in runs]
        recoveries = _recovery_seconds(finished)
        successful = sum(w.status == "success" for w in finished)
        created = [w.created_at for w in runs]
        return {
            "name": name,
            "project_id": project.id,
            "window_start": iso_ms(min(created)),
            "window_end": iso_ms(max(created)),
            "metrics": {
                "total_runs": len(runs),
                "successful_runs": successful,
                "mttr": sum(recoveries) // len(recoveries) if recoveries else 0,
                "total_credits_used": sum(credits),
                "failed_runs": sum(w.status == "failed" for w in finished),
                "median_credits_used": median_int(credits),
                "success_rate": successful / len(runs),
                "duration_metrics": {**duration_metrics(durations), "total_duration": sum(durations)},
                "total_recoveries": len(recoveries),
                "throughput": len(runs) / (window / timedelta(days=1)),
            },
        }

    def _job_summary(self, name: str, jobs: list[Job], window: timedelta) -> dict[str, Any]:
        finished = [j for j in jobs if self._timeline.is_finished(j)]
        successful = sum(j.status == "success" for j in finished)
        return {
            "name": name,
            "window_start": iso_ms(min(j.started_at for j in jobs)),
            "window_end": iso_ms(max(j.started_at for j in jobs)),
            "metrics": {
                "total_runs": len(jobs),
                "failed_runs": sum(j.status in {"failed", "infrastructure_fail"} for j in finished),
                "successful_runs": successful,
                "duration_metrics": duration_metrics([j.run_seconds for j in finished]),
                "success_rate": successful / len(jobs),
                "total_credits_used": insights_credits(finished),
                "throughput": len(jobs) / (window / timedelta(days=1)),
            },
        }

    @staticmethod
    def _time_series_item(at: datetime, name: str, jobs: list[Job], bucket: timedelta) -> dict[str, Any]:
        seconds = [j.run_seconds for j in jobs]
        metrics = duration_metrics(seconds)
        return {
            "name": name,
            "min_started_at": iso_ms(min(j.started_at for j in jobs)),
            "max_ended_at": iso_ms(max(j.stopped_at for j in jobs)),
            "timestamp": iso_ms(at),
            "metrics": {
                "total_runs": len(jobs),
                "failed_runs": sum(j.status in {"failed", "infrastructure_fail"} for j in jobs),
                "successful_runs": sum(j.status == "success" for j in jobs),
                "throughput": len(jobs) / (bucket / timedelta(days=1)),  # runs per day
                "median_credits_used": median_int([insights_credits([j]) for j in jobs]),
                "total_credits_used": insights_credits(jobs),
                "duration_metrics": {"min": metrics["min"], "median": metrics["median"], "max": metrics["max"],
                                     "p95": metrics["p95"], "total": sum(seconds)},
            },
        }


def _workflow_name(match: re.Match[str]) -> str:
    return unquote(match["name"])


def _recovery_seconds(finished_oldest_first: list[Workflow]) -> list[int]:
    """Time from each failure (the first of a streak) to the next success: what mttr averages."""
    recoveries, failed_at = [], None
    for workflow in finished_oldest_first:
        if workflow.status == "failed" and failed_at is None:
            failed_at = workflow.stopped_at
        elif workflow.status == "success" and failed_at is not None:
            recoveries.append(_seconds(failed_at, workflow.stopped_at))
            failed_at = None
    return recoveries
