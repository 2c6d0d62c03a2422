"""The world as the JSON endpoints see it at the simulator's "now": what exists yet, what is running.

"Now" is 02:00 UTC on the day after the world's `end_date`, when a nightly ETL run would call
the API. Pipelines created before then are visible, including that morning's few; a workflow or
job that has not stopped by then is running. `advance(days)` lets simulated nights pass: the
world grows by whole days, runs in progress finish, old runs leave the Insights window.

Lookups by pipeline or workflow id use an index filled as days are generated for any view; an
id not in it triggers one scan of the whole world before the answer is "not found".
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import unquote

from ciwatch_etl.simulator.circleci.day_builder import JOB_NUMBER_STRIDE
from ciwatch_etl.simulator.circleci.entities import Job, JobSpec, Pipeline, Project, Workflow
from ciwatch_etl.simulator.circleci.world import World

NIGHTLY_RUN_AT = time(2, 0)  # when the nightly ETL run calls the API, UTC
# The spec's slugs use the short VCS names; the long ones (as in DevLake's recorded requests) work too.
_VCS_SLUGS = {"gh": "gh", "github": "gh", "bb": "bb", "bitbucket": "bb"}


class Timeline:
    def __init__(self, world: World) -> None:
        self.world = world
        self._projects = {p.slug: p for org in world.orgs for p in org.projects}
        self._lock = threading.Lock()
        self._index: dict[str, tuple[Project, date]] = {}  # pipeline or workflow id -> its pipeline's day
        self._scanned_through: date | None = None

    # -- the clock -----------------------------------------------------------------------------

    @property
    def now(self) -> datetime:
        return datetime.combine(self.world.next_date, NIGHTLY_RUN_AT, tzinfo=UTC)

    def advance(self, days: int) -> None:
        self.world.extend(days)

    # -- projects --------------------------------------------------------------------------------

    @property
    def project_slugs(self) -> list[str]:
        return list(self._projects)

    def project(self, slug: str) -> Project | None:
        """Accepts `gh/org/repo` and `github/org/repo`, with `/` plain or URL-escaped."""
        vcs, _, rest = unquote(slug).partition("/")
        short = _VCS_SLUGS.get(vcs.lower())
        return None if short is None else self._projects.get(f"{short}/{rest}")

    # -- what exists at "now" ------------------------------------------------------------------

    def days_newest_first(self) -> list[date]:
        """Every day that can hold visible pipelines, from now's date back to the world's first."""
        first, last = self.world.first_date, self.now.date()
        return [last - timedelta(days=i) for i in range((last - first).days + 1)]

    def pipelines_on(self, project: Project, day: date) -> list[Pipeline]:
        """Pipelines created on `day` before now, oldest first."""
        world = self.world
        if day == world.next_date:
            pipelines = [p for p in world.pipelines_of_next_day(project) if p.created_at <= self.now]
        else:
            pipelines = world.pipelines(project, day)
        self._remember(project, day, pipelines)
        return pipelines

    def workflows(self, pipeline: Pipeline) -> list[Workflow]:
        return [w for w in pipeline.workflows if w.created_at <= self.now]

    def workflows_created_on(self, project: Project, day: date) -> list[Workflow]:
        """Visible workflows created on `day`. A late pipeline's workflows (a re-run above all)
        may start after midnight, so the day before is searched too."""
        return [
            workflow
            for pipeline_day in (day - timedelta(days=1), day)
            for pipeline in self.pipelines_on(project, pipeline_day)
            for workflow in self.workflows(pipeline)
            if workflow.created_at.date() == day
        ]

    def jobs(self, workflow: Workflow) -> list[Job]:
        """Jobs that have started by now. Queued and blocked jobs are left out: the spec
        requires `started_at`, and they have not run (the usage export has no row for them)."""
        return [j for j in workflow.jobs if j.started_at <= self.now]

    def is_finished(self, item: Workflow | Job) -> bool:
        return item.stopped_at <= self.now

    def workflow_status(self, workflow: Workflow) -> str:
        """The pipeline endpoints' status: final once stopped, else running (or failing, as
        CircleCI says when a job has already failed while others still run)."""
        if self.is_finished(workflow):
            return workflow.status
        failed = any(self.is_finished(j) and j.status != "success" for j in self.jobs(workflow))
        return "failing" if failed else "running"

    def job_status(self, job: Job) -> str:
        return job.status if self.is_finished(job) else "running"

    # -- lookups -------------------------------------------------------------------------------

    def pipeline(self, pipeline_id: str) -> Pipeline | None:
        return next((p for p in self._candidates(pipeline_id) if p.id == pipeline_id), None)

    def workflow(self, workflow_id: str) -> Workflow | None:
        for pipeline in self._candidates(workflow_id):
            for workflow in self.workflows(pipeline):
                if workflow.id == workflow_id:
                    return workflow
        return None

    def job(self, project: Project, number: int) -> Job | None:
        """A started job by its project-wide number (the pipeline's number times a stride, plus one)."""
        pipeline = self.world.pipeline_by_number(project, number // JOB_NUMBER_STRIDE)
        if pipeline is None or pipeline.created_at > self.now:
            return None
        return next((j for w in self.workflows(pipeline) for j in self.jobs(w) if j.number == number), None)

    @staticmethod
    def stages(workflow: Workflow) -> tuple[tuple[JobSpec, ...], ...]:
        profile = workflow.pipeline.project.profile
        return {"build-and-test": profile.build_and_test, "deploy": profile.deploy,
                "nightly": profile.nightly}[workflow.name]

    def _candidates(self, some_id: str) -> Iterator[Pipeline]:
        with self._lock:
            known = self._index.get(some_id)
        if known is None:
            self._scan_everything()
            with self._lock:
                known = self._index.get(some_id)
        if known is not None:
            project, day = known
            yield from self.pipelines_on(project, day)

    def _scan_everything(self) -> None:
        with self._lock:
            if self._scanned_through == self.now.date():
                return
        for org in self.world.orgs:
            for project in org.projects:
                for day in self.days_newest_first():
                    self.pipelines_on(project, day)
        with self._lock:
            self._scanned_through = self.now.date()

    def _remember(self, project: Project, day: date, pipelines: list[Pipeline]) -> None:
        with self._lock:
            for pipeline in pipelines:
                self._index[pipeline.id] = (project, day)
                for workflow in pipeline.workflows:
                    self._index[workflow.id] = (project, day)
