"""The deterministic synthetic CircleCI world: 2 orgs x 8 projects x N days of pipelines.

Each (project, day) is generated on demand from its own seeded `random.Random`, so a request for
one week costs one week, and two worlds built from the same arguments are identical. Only the
pipeline counts are drawn separately (they are cheap), because pipeline numbers run on across days.
"""

from __future__ import annotations

import functools
import math
import random
import threading
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta

from ciwatch_etl.simulator.entities import (
    Credits,
    Job,
    JobSpec,
    Org,
    Pipeline,
    Project,
    ProjectProfile,
    Utilisation,
    Workflow,
)
from ciwatch_etl.simulator.resource_classes import resource_class

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
_BRANCH_TOPICS = (
    "login", "retry", "cache", "metrics", "pricing", "search", "upgrade", "cleanup",
    "oauth", "export", "timeouts", "docs", "flaky-test", "logging", "perf", "i18n",
)
_BOT_BRANCHES = ("dependabot/npm_and_yarn/lodash-4.17.21", "dependabot/pip/requests-2.32.3",
                 "dependabot/docker/python-3.12-slim")

WEEKDAY_PUSHES = 10.0  # mean pushes on a weekday for a project of activity 1.0
WEEKEND_FACTOR = 0.12  # weekends are much quieter
FOLLOWUP_SHARE = 0.2  # pushes followed within minutes by another push on the same branch
MAIN_SHARE = 0.3  # pushes that land on main (merges) and therefore deploy
BOT_SHARE = 0.04  # pushes by a dependency bot, an unregistered user
API_TRIGGER_SHARE = 0.12  # main pipelines triggered through the API instead of a webhook
RERUN_SHARE = 0.4  # failed workflows someone re-runs
RERUN_FAILURE_SCALE = 0.35  # a re-run mostly passes: many failures are flaky
INFRA_FAILURE_RATE = 0.003
DLC_CREDITS = 200  # docker layer caching is billed per job run
JOB_NUMBER_STRIDE = 32  # job numbers reserved per pipeline: more than any pipeline runs


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
        # Big enough for a 32-day export of both orgs; older days are cheap to regenerate.
        self._day_cache = functools.lru_cache(maxsize=1200)(self._generate_day)

    # -- lookups -------------------------------------------------------------------------------

    def org(self, org_id: str) -> Org | None:
        return self._orgs_by_id.get(org_id)

    @property
    def dates(self) -> list[date]:
        return [self.first_date + timedelta(days=i) for i in range((self.end_date - self.first_date).days + 1)]

    def pipelines(self, project: Project, day: date) -> list[Pipeline]:
        """Pipelines created on `day` (UTC), oldest first; none outside the simulated window."""
        if not self.first_date <= day <= self.end_date:
            return []
        return self._day_cache(project, day)

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
                    profile=_make_profile(prng),
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
        with self._lock:
            starts = self._pipeline_number_starts.get(project.id)
            if starts is None:
                starts, number = {}, project.profile.first_pipeline_number
                for d in self.dates:
                    starts[d] = number
                    pushes, followups = self._push_counts(project, d)
                    number += pushes + followups + 1  # + the nightly scheduled pipeline
                self._pipeline_number_starts[project.id] = starts
        return starts[day]

    def _generate_day(self, project: Project, day: date) -> list[Pipeline]:
        pushes, followups = self._push_counts(project, day)
        return _DayBuilder(self, project, day).build(pushes, followups, self._first_pipeline_number(project, day))


def _make_profile(rng: random.Random) -> ProjectProfile:
    over_provisioned = set(rng.sample(["lint", "build", "security-scan", "deploy-staging"], k=rng.choice([1, 1, 2])))

    def spec(name: str, executor: str, cls: str, lo: float, hi: float, fail: float, *,
             parallelism: int = 1, dlc: bool = False) -> JobSpec:
        if name in over_provisioned:
            cls = rng.choice(["large", "xlarge", "2xlarge"]) if executor == "docker" else "large"
        return JobSpec(name, resource_class(executor, cls), parallelism, lo, hi, fail,
                       uses_dlc=dlc, over_provisioned=name in over_provisioned)

    integration = rng.choice([("machine", "medium"), ("machine", "large"), ("machine", "arm.medium"),
                              ("machine", "arm.large"), ("docker", "large")])
    return ProjectProfile(
        activity=rng.uniform(0.5, 1.6),
        build_and_test=(
            (spec("changes-check", "docker", "small", 3, 13, 0.03),
             spec("lint", "docker", "small", 40, 160, 0.07)),
            (spec("unit-tests", "docker", rng.choice(["medium", "large"]), 120, 540, 0.15,
                  parallelism=rng.choice([1, 2, 2, 4, 4, 8])),
             spec("build", "docker", "medium+", 90, 330, 0.06)),
            (spec("integration-tests", *integration, 240, 840, 0.16),),
        ),
        deploy=(
            (spec("build-image", "docker", "medium", 90, 300, 0.05, dlc=rng.random() < 0.6),),
            (spec("deploy-staging", "docker", "small", 60, 180, 0.07),),
            (spec("deploy-production", "docker", "small", 60, 200, 0.09),),
        ),
        nightly=(
            (spec("e2e-tests (chrome, linux)", "docker", "large", 600, 1500, 0.2,
                  parallelism=rng.choice([2, 3, 4])),
             spec("security-scan", "docker", "medium", 120, 420, 0.06),
             spec("dependency-audit", "docker", "small", 4, 14, 0.04)),
        ),
        nightly_minute_utc=rng.randint(60, 240),
        uses_ip_ranges=rng.random() < 0.4,
        first_pipeline_number=rng.randint(50, 4000),
    )


class _DayBuilder:
    """Generates one project's pipelines for one day from that day's own random stream."""

    def __init__(self, world: World, project: Project, day: date) -> None:
        self.world = world
        self.project = project
        self.rng = random.Random(f"{world.seed}/{project.org.index}/{project.index}/{day.isoformat()}")
        self.day_start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        self.day = day
        self.job_counts: dict[str, int] = {}

    def build(self, pushes: int, followups: int, first_number: int) -> list[Pipeline]:
        rng = self.rng
        day_ms = 86_400_000
        branches = self._feature_branches()
        events: list[tuple[int, str, str]] = []  # (ms into the day, kind, branch)
        for _ in range(pushes):
            events.append((self._push_ms(), "push", self._branch(branches)))
        for parent in rng.sample(events, k=followups):
            at = min(parent[0] + int(rng.uniform(60, 420) * 1000), day_ms - 1000)
            events.append((at, "push", parent[2]))
        minute = self.project.profile.nightly_minute_utc
        events.append((minute * 60_000 + int(rng.uniform(0, 30_000)), "schedule", "main"))
        events.sort()

        pipelines: list[Pipeline] = []
        running_on_branch: dict[str, list[Workflow]] = {}
        for number, (ms, kind, branch) in enumerate(events, start=first_number):
            created = self.day_start + timedelta(milliseconds=ms)
            pipeline = self._pipeline(number, created, kind, branch)
            pipelines.append(pipeline)
            # CircleCI auto-cancels redundant workflows on non-default branches.
            if branch != "main":
                for workflow in running_on_branch.get(branch, []):
                    self._cancel(workflow, created + timedelta(milliseconds=int(rng.uniform(500, 3000))))
            start = created + timedelta(milliseconds=int(rng.uniform(800, 3000)))
            profile = self.project.profile
            if kind == "schedule":
                self._run_with_rerun(pipeline, "nightly", profile.nightly, start)
            else:
                running_on_branch[branch] = self._run_with_rerun(
                    pipeline, "build-and-test", profile.build_and_test, start
                )
                if branch == "main":
                    self._run_with_rerun(pipeline, "deploy", profile.deploy, start)
        for pipeline in pipelines:
            for workflow in pipeline.workflows:
                for job in workflow.jobs:
                    self._finalise(job)
        return pipelines

    # -- pushes --------------------------------------------------------------------------------

    def _push_ms(self) -> int:
        # Developers push around early afternoon local time; the org's offset moves that in UTC.
        hour = self.rng.gauss(13.5 - self.project.org.utc_offset_hours, 2.8)
        return int(min(max(hour, 0.05), 23.9) * 3_600_000)

    def _feature_branches(self) -> list[str]:
        # Branches live about a week, so the pool is drawn per ISO week.
        year, week, _ = self.day.isocalendar()
        org, project = self.project.org.index, self.project.index
        rng = random.Random(f"{self.world.seed}/{org}/{project}/branches/{year}-{week}")
        return [
            f"{rng.choice(['feature', 'feature', 'fix', 'chore'])}/{rng.choice(_BRANCH_TOPICS)}-{rng.randint(100, 999)}"
            for _ in range(rng.randint(3, 7))
        ]

    def _branch(self, feature_branches: Sequence[str]) -> str:
        r = self.rng.random()
        if r < MAIN_SHARE:
            return "main"
        if r < MAIN_SHARE + BOT_SHARE:
            return self.rng.choice(_BOT_BRANCHES)
        return self.rng.choice(feature_branches)

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _pipeline(self, number: int, created: datetime, kind: str, branch: str) -> Pipeline:
        org = self.project.org
        if kind == "schedule":
            source, user, unregistered = "schedule", None, False
        elif branch.startswith("dependabot/"):
            source, user, unregistered = "webhook", org.bot_user_id, True
        else:
            api = branch == "main" and self.rng.random() < API_TRIGGER_SHARE
            source, user, unregistered = ("api" if api else "webhook"), self.rng.choice(org.user_ids), False
        return Pipeline(
            id=self._uuid(),
            project=self.project,
            number=number,
            created_at=created,
            branch=branch,
            revision=f"{self.rng.getrandbits(160):040x}",
            trigger_source=source,
            trigger_user_id=user,
            is_unregistered_user=unregistered,
        )

    # -- workflows and jobs --------------------------------------------------------------------

    def _run_with_rerun(self, pipeline: Pipeline, name: str, stages: tuple[tuple[JobSpec, ...], ...],
                        start: datetime) -> list[Workflow]:
        first = self._run(pipeline, name, stages, start, failure_scale=1.0, rerun_of=None)
        runs = [first]
        if first.status == "failed" and self.rng.random() < RERUN_SHARE:
            later = first.stopped_at + timedelta(milliseconds=int(self.rng.uniform(180, 2700) * 1000))
            runs.append(self._run(pipeline, name, stages, later, failure_scale=RERUN_FAILURE_SCALE,
                                  rerun_of=first.id))
        return runs

    def _run(self, pipeline: Pipeline, name: str, stages: tuple[tuple[JobSpec, ...], ...], start: datetime,
             *, failure_scale: float, rerun_of: str | None) -> Workflow:
        rng = self.rng
        workflow = Workflow(id=self._uuid(), pipeline=pipeline, name=name, created_at=start, stopped_at=start,
                            status="success", rerun_of=rerun_of)
        pipeline.workflows.append(workflow)
        ready = start
        for stage in stages:
            stage_end = ready
            for spec in stage:
                queued = ready + timedelta(milliseconds=int(rng.uniform(200, 2500)))
                started = queued + timedelta(milliseconds=self._queue_ms(spec))
                seconds = rng.uniform(spec.min_seconds, spec.max_seconds)
                r = rng.random()
                if r < spec.failure_rate * failure_scale:
                    status, seconds = "failed", seconds * rng.uniform(0.15, 0.95)
                elif r < spec.failure_rate * failure_scale + INFRA_FAILURE_RATE:
                    status, seconds = "infrastructure_fail", seconds * rng.uniform(0.05, 0.5)
                else:
                    status = "success"
                stopped = started + timedelta(milliseconds=int(seconds * 1000))
                workflow.jobs.append(Job(id=self._uuid(), workflow=workflow, spec=spec,
                                         number=self._job_number(pipeline), status=status,
                                         queued_at=queued, started_at=started, stopped_at=stopped))
                if status != "success":
                    workflow.status = "failed"
                stage_end = max(stage_end, stopped)
            ready = stage_end
            if workflow.status == "failed":
                break  # later stages require this one
        workflow.stopped_at = ready
        return workflow

    def _queue_ms(self, spec: JobSpec) -> int:
        r = self.rng.random()
        if r < 0.85:
            seconds = self.rng.uniform(0.3, 6)
        else:
            seconds = self.rng.uniform(6, 45) if r < 0.97 else self.rng.uniform(45, 240)  # busy hours
        if spec.resource_class.executor == "machine":
            seconds += self.rng.uniform(5, 25)  # a VM has to boot
        return int(seconds * 1000)

    def _job_number(self, pipeline: Pipeline) -> int:
        count = self.job_counts.get(pipeline.id, 0)
        self.job_counts[pipeline.id] = count + 1
        return pipeline.number * JOB_NUMBER_STRIDE + count

    @staticmethod
    def _cancel(workflow: Workflow, at: datetime) -> None:
        """A newer push superseded this workflow: running jobs stop, unstarted ones never run."""
        if workflow.created_at >= at or workflow.stopped_at <= at:
            return
        kept = []
        for job in workflow.jobs:
            if job.started_at >= at:
                continue
            if job.stopped_at > at:
                job.status, job.stopped_at = "canceled", at
            kept.append(job)
        workflow.jobs, workflow.status, workflow.stopped_at = kept, "canceled", at

    def _finalise(self, job: Job) -> None:
        """Utilisation and credits, once the job's final duration is known."""
        rng, spec = self.rng, job.spec
        seconds = job.run_seconds
        if seconds < 15 or rng.random() < 0.03:
            job.utilisation = None  # CircleCI samples every 15 s, and sometimes not at all
        elif spec.over_provisioned:
            cpu, ram = rng.uniform(4, 22), rng.uniform(6, 25)
            job.utilisation = Utilisation(round(cpu, 1), round(cpu + rng.uniform(3, 15), 1),
                                          round(ram, 1), round(ram + rng.uniform(2, 12), 1))
        else:
            cpu, ram = rng.uniform(35, 85), rng.uniform(30, 80)
            job.utilisation = Utilisation(round(cpu, 1), round(min(cpu + rng.uniform(5, 40), 100.0), 1),
                                          round(ram, 1), round(min(ram + rng.uniform(3, 30), 100.0), 1))
        rate = spec.resource_class.credits_per_minute
        is_deploy = spec.name.startswith("deploy")  # IP ranges: production firewalls allow-list these jobs
        job.credits = Credits(
            compute=round(rate * seconds * spec.parallelism * 100 / 60),
            dlc=DLC_CREDITS * 100 if spec.uses_dlc else 0,
            storage=int(rng.uniform(1, 60)) if rng.random() < 0.35 else 0,
            network=int(rng.uniform(1, 30)) if rng.random() < 0.15 else 0,
            ipranges=int(rng.uniform(5, 80)) if self.project.profile.uses_ip_ranges and is_deploy else 0,
        )
