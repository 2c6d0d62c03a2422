"""How one project builds, and what it ran on one day: pipelines, workflows and jobs.

`make_profile` draws a project's config once (its workflows as stages of jobs, their resource
classes and failure rates); `DayBuilder` turns one (project, day) and its push counts into
pipelines from that day's own seeded `random.Random`, so any day can be generated alone.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from ciwatch_etl.simulator.circleci.entities import (
    Credits,
    Job,
    JobSpec,
    Pipeline,
    Project,
    ProjectProfile,
    Utilisation,
    Workflow,
)
from ciwatch_etl.simulator.circleci.resource_classes import resource_class

_BRANCH_TOPICS = (
    "login", "retry", "cache", "metrics", "pricing", "search", "upgrade", "cleanup",
    "oauth", "export", "timeouts", "docs", "flaky-test", "logging", "perf", "i18n",
)
_BOT_BRANCHES = ("dependabot/npm_and_yarn/lodash-4.17.21", "dependabot/pip/requests-2.32.3",
                 "dependabot/docker/python-3.12-slim")

MAIN_SHARE = 0.3  # pushes that land on the default branch (merges) and therefore deploy
BOT_SHARE = 0.04  # pushes by a dependency bot, an unregistered user
API_TRIGGER_SHARE = 0.12  # main pipelines triggered through the API instead of a webhook
RERUN_SHARE = 0.4  # failed workflows someone re-runs
RERUN_FAILURE_SCALE = 0.35  # a re-run mostly passes: many failures are flaky
INFRA_FAILURE_RATE = 0.003
DLC_CREDITS = 200  # docker layer caching is billed per job run
JOB_NUMBER_STRIDE = 32  # job numbers reserved per pipeline: more than any pipeline runs


def make_profile(rng: random.Random) -> ProjectProfile:
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


class DayBuilder:
    """Generates one project's pipelines for one day from that day's own random stream."""

    def __init__(self, seed: int, project: Project, day: date) -> None:
        self.seed = seed
        self.project = project
        self.rng = random.Random(f"{seed}/{project.org.index}/{project.index}/{day.isoformat()}")
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
        events.append((minute * 60_000 + int(rng.uniform(0, 30_000)), "schedule", self.project.default_branch))
        events.sort()

        pipelines: list[Pipeline] = []
        running_on_branch: dict[str, list[Workflow]] = {}
        for number, (ms, kind, branch) in enumerate(events, start=first_number):
            created = self.day_start + timedelta(milliseconds=ms)
            pipeline = self._pipeline(number, created, kind, branch)
            pipelines.append(pipeline)
            # CircleCI auto-cancels redundant workflows on non-default branches.
            if branch != self.project.default_branch:
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
                if branch == self.project.default_branch:
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
        rng = random.Random(f"{self.seed}/{org}/{project}/branches/{year}-{week}")
        return [
            f"{rng.choice(['feature', 'feature', 'fix', 'chore'])}/{rng.choice(_BRANCH_TOPICS)}-{rng.randint(100, 999)}"
            for _ in range(rng.randint(3, 7))
        ]

    def _branch(self, feature_branches: Sequence[str]) -> str:
        r = self.rng.random()
        if r < MAIN_SHARE:
            return self.project.default_branch
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
            api = branch == self.project.default_branch and self.rng.random() < API_TRIGGER_SHARE
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
