"""The deterministic synthetic gocdnext server state: projects, pipelines and every run's plan.

Runs are generated per (project, day) from the first simulated day up to the current time
(`now`), which only moves when asked: `advance` (a later pull) or `insert_runs` (new runs
arriving while a client pages). A few "live" runs are placed around the starting time so that a
fresh world always has queued, running and waiting runs.
"""

from __future__ import annotations

import random
import threading
import uuid
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

from ciwatch_etl.simulator.gocdnext.catalog import (
    AGENT_COUNT,
    AUTHORS,
    PROJECTS,
    PipelineSpec,
)
from ciwatch_etl.simulator.gocdnext.generator import DayGenerator, RunPlanner
from ciwatch_etl.simulator.gocdnext.plans import Pipeline, Project, RunPlan
from ciwatch_etl.simulator.gocdnext.view import run_status

_ID_NAMESPACE = uuid.UUID("0c4f9a6e-5b1d-4c8e-9f37-2d6a1e8b7c55")
LIVE_TRIES = 200  # seeds tried for each live run until its plan shows the wanted status


class World:
    def __init__(self, *, seed: int, now: datetime, days: int) -> None:
        if days < 1:
            raise ValueError(f"days must be at least 1, got {days}")
        self.seed = seed
        self.now = now.astimezone(UTC)
        self.first_date = self.now.date() - timedelta(days=days - 1)
        self.lock = threading.RLock()  # held by the API while it reads, and by every change
        self._agents = tuple(self._id(f"agent/{i}") for i in range(AGENT_COUNT))
        self.projects: list[Project] = []
        self._pipelines: dict[str, dict[str, tuple[Pipeline, PipelineSpec]]] = {}
        for index, spec in enumerate(PROJECTS):
            rng = random.Random(f"{seed}/gocdnext/project/{index}")
            project = Project(
                id=self._id(f"project/{spec.slug}"), slug=spec.slug, name=spec.name, description=spec.description,
                provider=spec.provider, check_reporting_mode=spec.check_reporting_mode,
                created_at=datetime.combine(self.first_date, datetime.min.time(), UTC)
                - timedelta(days=rng.randint(200, 900), seconds=rng.randint(0, 86399)),
                git_material_id=self._id(f"project/{spec.slug}/material/git"),
                upstream_material_id=self._id(f"project/{spec.slug}/material/upstream-build"),
            )
            self.projects.append(project)
            self._pipelines[project.slug] = {
                p.name: (Pipeline(self._id(f"project/{spec.slug}/pipeline/{p.name}"), project, p.name, p.kind,
                                  p.services, p.serial), p)
                for p in spec.pipelines
            }
        self._runs: dict[str, RunPlan] = {}
        self._generated_through = self.first_date - timedelta(days=1)
        self._inserted = 0
        self._visible: tuple[datetime, int, list[RunPlan]] | None = None
        self._generate_through(self.now.date())
        self._add_live_runs()
        self._renumber()

    # -- reads ---------------------------------------------------------------------------------

    def pipeline_count(self, project: Project) -> int:
        return len(self._pipelines[project.slug])

    def project(self, slug: str) -> Project | None:
        return next((p for p in self.projects if p.slug == slug), None)

    def pipeline_definitions(self, project: Project) -> list[tuple[Pipeline, list[str], list[tuple[str, str]]]]:
        """Each pipeline of the project with its stage names and (job, stage) names, as its YAML says."""
        return [
            (pipeline, [stage.name for stage in spec.stages],
             [(job.name, stage.name) for stage in spec.stages for job in stage.jobs])
            for pipeline, spec in self._pipelines[project.slug].values()
        ]

    def visible_runs(self) -> list[RunPlan]:
        """Runs created by `now`, newest first (ties broken by id, so pages are stable)."""
        with self.lock:
            key = (self.now, len(self._runs))
            if self._visible is None or self._visible[:2] != key:
                runs = [r for r in self._runs.values() if r.created_at <= self.now]
                runs.sort(key=lambda r: (r.created_at, r.id), reverse=True)
                self._visible = (*key, runs)
            return self._visible[2]

    def run(self, run_id: str) -> RunPlan | None:
        with self.lock:
            run = self._runs.get(run_id)
            return run if run is not None and run.created_at <= self.now else None

    # -- time moves ----------------------------------------------------------------------------

    def advance(self, delta: timedelta) -> None:
        with self.lock:
            self.now += delta
            self._generate_through(self.now.date())
            self._renumber()

    def insert_runs(self, count: int) -> list[RunPlan]:
        """`count` manual build runs created right now (the clock ticks a millisecond for each)."""
        with self.lock:
            added = []
            for _ in range(count):
                self._inserted += 1
                self.now += timedelta(milliseconds=1)
                project = self.projects[self._inserted % len(self.projects)]
                pipeline, spec = self._pipelines[project.slug]["build"]
                rng = random.Random(f"{self.seed}/gocdnext/inserted/{self._inserted}")
                run = RunPlanner(rng, self._id, self._agents).plan(
                    pipeline, spec, self._id(f"inserted/{self._inserted}"), self.now, _manual(rng, project))
                self._runs[run.id] = run
                added.append(run)
            self._renumber()
            return added

    # -- generation ----------------------------------------------------------------------------

    def _id(self, path: str) -> str:
        return str(uuid.uuid5(_ID_NAMESPACE, f"{self.seed}/{path}"))

    def _generate_through(self, last: date) -> None:
        day = self._generated_through + timedelta(days=1)
        while day <= last:
            for index, spec in enumerate(PROJECTS):
                generator = DayGenerator(self.seed, index, self._pipelines[spec.slug], spec.activity, day,
                                         self._id, self._agents)
                for run in generator.build():
                    self._runs[run.id] = run
            day += timedelta(days=1)
        self._generated_through = max(self._generated_through, last)

    def _renumber(self) -> None:
        """`counter` is the run's rank within its pipeline by creation time, as the server assigns it."""
        by_pipeline: defaultdict[str, list[RunPlan]] = defaultdict(list)
        for run in self._runs.values():
            by_pipeline[run.pipeline.id].append(run)
        for runs in by_pipeline.values():
            runs.sort(key=lambda r: (r.created_at, r.id))
            for number, run in enumerate(runs, start=1):
                run.counter = number

    def _add_live_runs(self) -> None:
        """Runs around the starting time: one running build, one queued build, a deploy waiting for
        approval and the next deploy queued behind it (serial pipeline)."""
        now = self.now
        first, second = self.projects[0], self.projects[1]
        self._live(first, "build", "running", now - timedelta(minutes=6), queue_seconds=20)
        self._live(second, "build", "queued", now - timedelta(seconds=40), queue_seconds=120)
        waiting = self._live(first, "deploy", "waiting", now - timedelta(minutes=50), queue_seconds=15)
        self._live(first, "deploy", "queued", now - timedelta(seconds=30), queue_seconds=5,
                   not_before=waiting.finished_at, busy_reason=f"serial-busy:{waiting.id}")

    def _live(self, project: Project, pipeline_name: str, wanted: str, created: datetime, **options) -> RunPlan:
        pipeline, spec = self._pipelines[project.slug][pipeline_name]
        for attempt in range(LIVE_TRIES):
            rng = random.Random(f"{self.seed}/gocdnext/live/{project.slug}/{pipeline_name}/{wanted}/{attempt}")
            run = RunPlanner(rng, self._id, self._agents).plan(
                pipeline, spec, self._id(f"live/{project.slug}/{pipeline_name}/{wanted}"), created,
                _manual(rng, project), **options)
            if run_status(run, self.now) == wanted:
                self._runs[run.id] = run
                return run
        raise AssertionError(f"no {wanted} {pipeline_name} run found in {LIVE_TRIES} tries")


def _manual(rng: random.Random, project: Project) -> dict:
    """The trigger of a run someone started by hand from main."""
    author = rng.choice(AUTHORS)
    return {
        "cause": "manual",
        "cause_detail": {"triggered_by": author},
        "revisions": {project.git_material_id: {"revision": f"{rng.getrandbits(160):040x}", "branch": "main"}},
        "triggered_by": author,
    }
