"""Pipeline history: a project's pipelines (newest first), a pipeline's workflows, a workflow's
jobs, and one job's details by number.

Unlike Insights these reach back to the world's first day: CircleCI keeps pipelines far longer
than Insights' 90 days. Last pages: the pipeline list says `"next_page_token": null`, as the
spec and the recorded pages do; the one-page lists of workflows and jobs leave the key out.
"""

from __future__ import annotations

import re

from ciwatch_etl.simulator.circleci.circleci_api import PROJECT_SLUG, Route, message
from ciwatch_etl.simulator.circleci.entities import Pipeline
from ciwatch_etl.simulator.http_base import Request, Response
from ciwatch_etl.simulator.circleci.pagination import (
    LIST_PAGE_SIZE,
    PIPELINES_PAGE_SIZE,
    Key,
    LastPage,
    decode_token,
    envelope,
    newest_first_by_day,
    page_of,
)
from ciwatch_etl.simulator.circleci.pipeline_json import (
    job_details_json,
    job_item_json,
    pipeline_json,
    workflow_json,
)
from ciwatch_etl.simulator.circleci.timeline import Timeline
from ciwatch_etl.simulator.circleci.wire import iso_ms

PROJECT_NOT_FOUND = "Project not found"


def _pipeline_key(pipeline: Pipeline) -> Key:
    return iso_ms(pipeline.created_at), f"{pipeline.number:012d}"


class PipelinesApi:
    def __init__(self, timeline: Timeline) -> None:
        self._timeline = timeline

    def routes(self) -> list[Route]:
        return [
            Route("GET", re.compile(rf"/project/{PROJECT_SLUG}/pipeline"), self.pipelines),
            Route("GET", re.compile(r"/pipeline/(?P<pipeline_id>[^/]+)/workflow"), self.workflows),
            Route("GET", re.compile(r"/workflow/(?P<workflow_id>[^/]+)/job"), self.jobs),
            Route("GET", re.compile(rf"/project/{PROJECT_SLUG}/job/(?P<number>[^/]+)"), self.job),
        ]

    def pipelines(self, request: Request, match: re.Match[str]) -> Response:
        timeline = self._timeline
        project = timeline.project(match["slug"])
        if project is None:
            return message(404, PROJECT_NOT_FOUND)
        params = request.params
        branch = params.get("branch")
        after = decode_token(params)

        def on(day):
            pipelines = timeline.pipelines_on(project, day)
            return pipelines if branch is None else [p for p in pipelines if p.branch == branch]

        items = newest_first_by_day(timeline.days_newest_first(), on, _pipeline_key, after)
        page, next_key = page_of(items, _pipeline_key, after, PIPELINES_PAGE_SIZE)
        return Response.json(200, envelope([pipeline_json(p) for p in page], next_key, LastPage.NULL))

    def workflows(self, request: Request, match: re.Match[str]) -> Response:
        timeline = self._timeline
        pipeline = timeline.pipeline(match["pipeline_id"])
        if pipeline is None:
            return message(404, "Pipeline not found")
        decode_token(request.params)  # a malformed token is refused even where one page is all there is
        workflows = sorted(timeline.workflows(pipeline), key=lambda w: (w.created_at, w.id), reverse=True)
        assert len(workflows) <= LIST_PAGE_SIZE, "a pipeline runs at most four workflows here"
        items = [workflow_json(timeline, w) for w in workflows]
        return Response.json(200, envelope(items, None, LastPage.ABSENT))

    def jobs(self, request: Request, match: re.Match[str]) -> Response:
        timeline = self._timeline
        workflow = timeline.workflow(match["workflow_id"])
        if workflow is None:
            return message(404, "Workflow not found")
        jobs = sorted(timeline.jobs(workflow), key=lambda j: (j.started_at, j.number))
        assert len(jobs) <= LIST_PAGE_SIZE, "a workflow runs at most six jobs here"
        items = [job_item_json(timeline, j) for j in jobs]
        return Response.json(200, envelope(items, None, LastPage.ABSENT))

    def job(self, request: Request, match: re.Match[str]) -> Response:
        timeline = self._timeline
        project = timeline.project(match["slug"])
        if project is None:
            return message(404, PROJECT_NOT_FOUND)
        number = match["number"]
        job = timeline.job(project, int(number)) if number.isdigit() else None
        if job is None:
            return message(404, "Job not found")
        return Response.json(200, job_details_json(timeline, job))
