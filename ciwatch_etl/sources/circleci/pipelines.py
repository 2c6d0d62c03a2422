"""CircleCI pipeline history (API v2): a project's pipelines, their workflows, their jobs.

Pipelines are listed newest first and paged only until they are older than the project's
high-water mark in the lake minus a lookback (pipelines created just before the previous pull
may have got workflows since), or, on a first pull, older than `history_days`.

Workflows that were still running at an earlier pull are fetched again until they finish: the
lake itself says which (`PipelineState.recheck`, read from the lake by the caller), so no state
lives outside it. A finished workflow whose jobs are in the lake is never fetched again. A job's
details (queue time, resource class, duration in milliseconds) come from its own endpoint; if
that call fails the workflow's jobs are left out of this pull, so the workflow counts as without
jobs and is fetched again next time. A 404 (a deleted project or pipeline) is a skip.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from ciwatch_etl.sources.circleci.json_client import (
    CircleCIJsonClient,
    Listing,
    Page,
    PullResult,
    read_listing,
    slug_path,
    source_key,
)
from ciwatch_etl.sources.http import ApiError
from ciwatch_etl.sources.timestamps import parse_timestamp

# Statuses of a workflow that can still change (the spec's enum; the rest are final).
UNFINISHED_WORKFLOW_STATUSES: frozenset[str] = frozenset({"running", "failing", "on_hold"})

# The raw tables the listings land in (declared in `schemas.circleci_pipelines`).
PIPELINES = "circleci_pipelines"
WORKFLOWS = "circleci_workflows"
JOBS = "circleci_jobs"


class CircleCIPipelinesClient(CircleCIJsonClient):
    def pipelines(self, slug: str) -> Iterator[Page]:
        return self.pages(f"project/{slug_path(slug)}/pipeline")

    def workflows(self, pipeline_id: str) -> Iterator[Page]:
        return self.pages(f"pipeline/{pipeline_id}/workflow")

    def jobs(self, workflow_id: str) -> Iterator[Page]:
        return self.pages(f"workflow/{workflow_id}/job")

    def job_details(self, slug: str, number: int) -> dict[str, Any]:
        return self.get(f"project/{slug_path(slug)}/job/{number}")


@dataclass(frozen=True)
class PipelineState:
    """What the lake already holds."""

    high_water: Mapping[str, datetime] = field(default_factory=dict)  # slug -> newest pipeline created_at
    recheck: Mapping[str, str] = field(default_factory=dict)  # pipeline id -> slug: unfinished in the lake
    settled_workflows: frozenset[str] = frozenset()  # finished, with their jobs in the lake


@dataclass(frozen=True)
class PipelineWindow:
    now: datetime  # timezone-aware UTC
    history_days: int = 30
    lookback_days: int = 3
    job_details: bool = True

    def cutoff(self, high_water: datetime | None) -> datetime:
        if high_water is None:
            return self.now - timedelta(days=self.history_days)
        return high_water.replace(tzinfo=timezone.utc) - timedelta(days=self.lookback_days)


def pull_pipelines(
    client: CircleCIPipelinesClient, slugs: Iterable[str], window: PipelineWindow, state: PipelineState
) -> PullResult:
    """Pipelines, workflows and jobs of every project; failures are noted by project, request and page."""
    result = PullResult()
    day = window.now.date().isoformat()
    seen: set[str] = set()
    for slug in slugs:
        listing = recent_pipelines(client, slug, window.cutoff(state.high_water.get(slug)), result)
        if listing is None:
            continue
        name = listing.source_name(f"GET project/{slug}/pipeline")
        result.add(PIPELINES, listing.items, {}, name, source_key("pipelines", slug, day))
        for pipeline in listing.items:
            if isinstance(pipeline.get("id"), str) and pipeline["id"] not in seen:
                seen.add(pipeline["id"])
                _pipeline_runs(client, slug, pipeline["id"], window, state, result)
    for pipeline_id, slug in sorted(state.recheck.items()):
        if pipeline_id not in seen:
            seen.add(pipeline_id)
            _pipeline_runs(client, slug, pipeline_id, window, state, result)
    return result


def recent_pipelines(
    client: CircleCIPipelinesClient, slug: str, cutoff: datetime, result: PullResult
) -> Listing | None:
    """Pipelines created at or after `cutoff`, newest first; None when the listing failed."""

    def until_cutoff() -> Iterator[Page]:
        for page in client.pipelines(slug):
            kept = [p for p in page.items if not _older(p, cutoff)]
            yield Page(page.number, kept)
            if len(kept) < len(page.items):
                return

    try:
        return read_listing(until_cutoff())
    except ApiError as exc:
        result.fail(slug, f"GET project/{slug}/pipeline", exc)
        return None


def _older(pipeline: Mapping[str, Any], cutoff: datetime) -> bool:
    try:
        created = parse_timestamp(pipeline["created_at"]).replace(tzinfo=timezone.utc)
    except (KeyError, TypeError, ValueError):
        return False  # kept: the schema quarantines it with the reason
    return created < cutoff


def _pipeline_runs(
    client: CircleCIPipelinesClient, slug: str, pipeline_id: str, window: PipelineWindow,
    state: PipelineState, result: PullResult,
) -> None:
    request = f"GET pipeline/{pipeline_id}/workflow"
    try:
        listing = read_listing(client.workflows(pipeline_id))
    except ApiError as exc:
        result.fail(slug, request, exc)
        return
    day = window.now.date().isoformat()
    key = source_key("workflows", pipeline_id, day)
    result.add(WORKFLOWS, listing.items, {}, listing.source_name(request), key)
    for workflow in listing.items:
        workflow_id = workflow.get("id")
        if not isinstance(workflow_id, str):
            continue
        if workflow_id in state.settled_workflows and workflow.get("status") not in UNFINISHED_WORKFLOW_STATUSES:
            continue
        jobs = _workflow_jobs(client, slug, workflow_id, window, result)
        if jobs is None:
            continue
        context = {"workflow_id": workflow_id, "pipeline_id": pipeline_id,
                   "workflow_created_date": _date_of(workflow.get("created_at"))}
        key = source_key("jobs", workflow_id, day)
        result.add(JOBS, jobs, context, f"GET workflow/{workflow_id}/job", key)


def _workflow_jobs(
    client: CircleCIPipelinesClient, slug: str, workflow_id: str, window: PipelineWindow, result: PullResult
) -> list[dict[str, Any]] | None:
    """A workflow's jobs, each with its details under `details`; None if any call failed."""
    request = f"GET workflow/{workflow_id}/job"
    try:
        jobs = read_listing(client.jobs(workflow_id)).items
    except ApiError as exc:
        result.fail(slug, request, exc)
        return None
    if not window.job_details:
        return jobs
    detailed = []
    for job in jobs:
        number = job.get("job_number")
        details = None
        if isinstance(number, int) and not isinstance(number, bool):
            job_slug = job.get("project_slug") if isinstance(job.get("project_slug"), str) else slug
            try:
                details = client.job_details(job_slug, number)
            except ApiError as exc:
                result.fail(slug, f"GET project/{job_slug}/job/{number}", exc)
                if exc.status != 404:
                    return None
        detailed.append({**job, "details": details} if details is not None else job)
    return detailed


def _date_of(value: Any) -> date | None:
    try:
        return parse_timestamp(value).date()
    except (TypeError, ValueError, AttributeError):
        return None
