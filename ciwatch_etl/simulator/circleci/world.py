"""The deterministic synthetic CircleCI world: 2 orgs x 8 projects x N days of pipelines.

Each (project, day) is generated on demand by `day_builder` from its own seeded `random.Random`,
so a request for one week costs one week, and two worlds built from the same arguments are
identical. Only the pipeline counts are drawn here, apart from the day (they are cheap), because
pipeline numbers run on across days.

A day's content depends on the seed, the project and `first_date` only, never on `end_date`: so
`extend` can move the end forward (a simulated night passing) and the result is the world that
`World(seed=..., end_date=new_end, days=days + extension)` would have built.
"""

from __future__ import annotations

import bisect
import functools
import math
import random
import threading
import uuid
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from ciwatch_etl.simulator.circleci.day_builder import DayBuilder, make_profile
from ciwatch_etl.simulator.circleci.entities import Job, Org, Pipeline, Project

_ID_NAMESPACE = uuid.UUID("6f1c1d2e-0b7a-4a55-9a43-3c9e0f3c2a10")

_ORGS = (
    ("acme-robotics", "github", 1),
    ("globex-labs", "bitbucket", -5),
)
_PROJECT_NAMES = (
    ("api-gateway", "billing-service", "web-frontend", "mobile-app",
     "data-pipeline", "auth-service", "infra-terraform", "docs-site"),
    ("checkout-api", "search-indexer", "storefront", "ml-ranking",
     "notifications", "inventory-service", "payments-gateway", "design-system"),
)
# Every project's default branch is main but this one's, an older repository still on master.
_MASTER_PROJECTS = frozenset({("globex-labs", "ml-ranking")})

WEEKDAY_PUSHES = 10.0  # mean pushes on a weekday for a project of activity 1.0
WEEKEND_FACTOR = 0.12  # weekends are much quieter
FOLLOWUP_SHARE = 0.2  # pushes followed within minutes by another push on the same branch


class World:
    """Orgs and projects up front; pipelines, workflows and jobs per (project, day) on demand."""

    def __init__(self, *, seed: int, end_date: date, days: int) -> None:
        if days < 1:
            raise ValueError(f"days must be at least 1, got {days}")
        self.seed = seed
        self.end_date = end_date
        self.first_date = end_date - timedelta(days=days - 1)
        self.orgs: tuple[Org, ...] = tuple(self._make_org(i) for i in range(len(_ORGS)))
        self._orgs_by_id = {org.id: org for org in self.orgs}
        self._lock = threading.Lock()
        self._pipeline_number_starts: dict[str, dict[date, int]] = {}
        self._last_build_finished_at: dict[str, datetime] = {}
        # Every day generated is kept (120 days: ~110k jobs, ~90 MB): a run pulls the same days
        # through several APIs (exports, Insights, pipelines), and a smaller cache made them again.
        self._day_cache = functools.cache(self._generate_day)

    # -- lookups -------------------------------------------------------------------------------

    def org(self, org_id: str) -> Org | None:
        return self._orgs_by_id.get(org_id)

    @property
    def dates(self) -> list[date]:
        return [self.first_date + timedelta(days=i) for i in range((self.end_date - self.first_date).days + 1)]

    @property
    def next_date(self) -> date:
        """The day after `end_date`: a nightly run's "now" falls early in it."""
        return self.end_date + timedelta(days=1)

    def pipelines(self, project: Project, day: date) -> list[Pipeline]:
        """Pipelines created on `day` (UTC), oldest first; none outside the simulated window."""
        if not self.first_date <= day <= self.end_date:
            return []
        return self._day_cache(project, day)

    def pipelines_of_next_day(self, project: Project) -> list[Pipeline]:
        """All of `next_date`'s pipelines, exactly as the world will hold them once extended to it.

        Not part of the world's usage data (exports stop at `end_date`): views of the present
        show the ones created before their "now", still running.
        """
        return self._day_cache(project, self.next_date)

    def pipeline_by_number(self, project: Project, number: int) -> Pipeline | None:
        """The project's pipeline with this number, from `first_date` to `next_date`."""
        starts = self._pipeline_number_starts_of(project)
        days = list(starts)
        index = bisect.bisect_right([starts[d] for d in days], number) - 1
        if index < 0:
            return None
        pipelines = self._day_cache(project, days[index])
        offset = number - starts[days[index]]
        return pipelines[offset] if offset < len(pipelines) else None

    def extend(self, days: int) -> None:
        """Move `end_date` later by `days`; every day already simulated stays exactly as it was."""
        if days < 1:
            raise ValueError(f"days must be at least 1, got {days}")
        with self._lock:
            self.end_date += timedelta(days=days)
            # Both caches are computed up to end_date; the generated days themselves stay valid.
            self._pipeline_number_starts.clear()
            self._last_build_finished_at.clear()

    def jobs_started_between(self, org_ids: Iterable[str], start: datetime, end: datetime) -> list[Job]:
        """Jobs of these orgs whose run started in [start, end] (inclusive), by start time."""
        # A pipeline created late in the evening runs its jobs after midnight: look one day back.
        first_day = (start - timedelta(days=1)).date()
        days = [d for d in self.dates if first_day <= d <= end.date()]
        jobs = [
            job
            for org_id in org_ids
            for project in self._orgs_by_id[org_id].projects
            for day in days
            for pipeline in self.pipelines(project, day)
            for workflow in pipeline.workflows
            for job in workflow.jobs
            if start <= job.started_at <= end
        ]
        jobs.sort(key=lambda j: (j.started_at, j.id))
        return jobs

    def last_build_finished_at(self, project: Project) -> datetime:
        """When the project's newest job stopped: a project attribute, the same on every row."""
        with self._lock:
            cached = self._last_build_finished_at.get(project.id)
        if cached is not None:
            return cached
        stops = [
            job.stopped_at
            for pipeline in self.pipelines(project, self.end_date)
            for workflow in pipeline.workflows
            for job in workflow.jobs
        ]
        # Every day has a scheduled pipeline, so the last day always has jobs.
        finished = max(stops)
        with self._lock:
            self._last_build_finished_at[project.id] = finished
        return finished

    # -- orgs and projects ---------------------------------------------------------------------

    def _uuid(self, path: str) -> str:
        return str(uuid.uuid5(_ID_NAMESPACE, f"{self.seed}/{path}"))

    def _make_org(self, index: int) -> Org:
        name, vcs_name, offset = _ORGS[index]
        rng = random.Random(f"{self.seed}/org/{index}")
        org = Org(
            index=index,
            id=self._uuid(f"org/{index}"),
            name=name,
            created_date=self.first_date - timedelta(days=rng.randint(700, 2200)),
            vcs_name=vcs_name,
            utc_offset_hours=offset,
            user_ids=tuple(self._uuid(f"org/{index}/user/{u}") for u in range(15)),
            bot_user_id=self._uuid(f"org/{index}/bot"),
        )
        for p, project_name in enumerate(_PROJECT_NAMES[index]):
            prng = random.Random(f"{self.seed}/org/{index}/project/{p}")
            age = (self.first_date - org.created_date).days
            org.projects.append(
                Project(
                    org=org,
                    index=p,
                    id=self._uuid(f"org/{index}/project/{p}"),
                    name=project_name,
                    created_date=org.created_date + timedelta(days=prng.randint(0, age - 30)),
                    profile=make_profile(prng),
                    default_branch="master" if (name, project_name) in _MASTER_PROJECTS else "main",
                )
            )
        return org

    # -- pipeline counts and numbers -----------------------------------------------------------

    def _push_counts(self, project: Project, day: date) -> tuple[int, int]:
        """(pushes, follow-up pushes) of a day, drawn apart from the day so numbers can be summed."""
        rng = random.Random(f"{self.seed}/{project.org.index}/{project.index}/{day.isoformat()}/pushes")
        mean = WEEKDAY_PUSHES * project.profile.activity * (WEEKEND_FACTOR if day.weekday() >= 5 else 1.0)
        pushes = max(0, round(rng.gauss(mean, math.sqrt(mean))))
        followups = sum(rng.random() < FOLLOWUP_SHARE for _ in range(pushes))
        return pushes, followups

    def _first_pipeline_number(self, project: Project, day: date) -> int:
        return self._pipeline_number_starts_of(project)[day]

    def _pipeline_number_starts_of(self, project: Project) -> dict[date, int]:
        """First pipeline number of each day from `first_date` to `next_date`, in date order."""
        with self._lock:
            starts = self._pipeline_number_starts.get(project.id)
            if starts is None:
                starts, number = {}, project.profile.first_pipeline_number
                for d in [*self.dates, self.next_date]:
                    starts[d] = number
                    pushes, followups = self._push_counts(project, d)
                    number += pushes + followups + 1  # + the nightly scheduled pipeline
                self._pipeline_number_starts[project.id] = starts
        return starts

    def _generate_day(self, project: Project, day: date) -> list[Pipeline]:
        pushes, followups = self._push_counts(project, day)
        return DayBuilder(self.seed, project, day).build(pushes, followups, self._first_pipeline_number(project, day))
