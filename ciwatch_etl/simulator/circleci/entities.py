"""The entities of the simulated CircleCI world: orgs, projects, pipelines, workflows and jobs.

They mirror CircleCI's own hierarchy (a pipeline holds workflows, a workflow holds jobs), so the
usage export, Insights and the pipeline/workflow/job endpoints can all be served from one world.
All timestamps are timezone-aware UTC, cut to whole milliseconds like CircleCI's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from ciwatch_etl.simulator.circleci.resource_classes import ResourceClass


@dataclass(eq=False, slots=True)
class Org:
    index: int
    id: str
    name: str
    created_date: date
    vcs_name: str  # github | bitbucket
    utc_offset_hours: int  # where most of its developers work: shapes the daily push curve
    user_ids: tuple[str, ...]
    bot_user_id: str  # a dependency bot pushing through the VCS: an unregistered user
    projects: list[Project] = field(default_factory=list)

    @property
    def vcs_host(self) -> str:
        return {"github": "github.com", "bitbucket": "bitbucket.org"}[self.vcs_name]

    @property
    def slug_prefix(self) -> str:
        return {"github": "gh", "bitbucket": "bb"}[self.vcs_name]


@dataclass(frozen=True, slots=True)
class JobSpec:
    """A job as written in a project's config: what it runs on and how long it usually takes."""

    name: str
    resource_class: ResourceClass
    parallelism: int
    min_seconds: float
    max_seconds: float
    failure_rate: float
    uses_dlc: bool = False
    over_provisioned: bool = False  # pinned to a bigger class than it needs (CPU and RAM < 40%)


@dataclass(frozen=True, slots=True)
class ProjectProfile:
    """How a project builds: its workflows as stages of jobs that run side by side."""

    activity: float  # scales the number of pushes per day
    build_and_test: tuple[tuple[JobSpec, ...], ...]
    deploy: tuple[tuple[JobSpec, ...], ...]
    nightly: tuple[tuple[JobSpec, ...], ...]
    nightly_minute_utc: int  # minute of the day the scheduled pipeline fires
    uses_ip_ranges: bool
    first_pipeline_number: int  # pipelines before the simulated window existed too


@dataclass(eq=False, slots=True)
class Project:
    org: Org
    index: int
    id: str
    name: str
    created_date: date
    profile: ProjectProfile
    default_branch: str  # where merges land, scheduled pipelines run and deploys start

    @property
    def slug(self) -> str:
        return f"{self.org.slug_prefix}/{self.org.name}/{self.name}"

    @property
    def vcs_url(self) -> str:
        return f"https://{self.org.vcs_host}/{self.org.name}/{self.name}"


@dataclass(eq=False, slots=True)
class Pipeline:
    id: str
    project: Project
    number: int
    created_at: datetime
    branch: str
    revision: str
    trigger_source: str  # PIPELINE_TRIGGER_SOURCE: webhook | api | schedule
    trigger_user_id: str | None  # None for scheduled pipelines: no person pushed anything
    is_unregistered_user: bool
    workflows: list[Workflow] = field(default_factory=list)


@dataclass(eq=False, slots=True)
class Workflow:
    id: str
    pipeline: Pipeline
    name: str
    created_at: datetime
    stopped_at: datetime
    status: str  # success | failed | canceled
    rerun_of: str | None  # id of the workflow this one re-runs (same pipeline, new workflow id)
    jobs: list[Job] = field(default_factory=list)

    @property
    def first_job_queued_at(self) -> datetime | None:
        return min((j.queued_at for j in self.jobs), default=None)

    @property
    def first_job_started_at(self) -> datetime | None:
        return min((j.started_at for j in self.jobs), default=None)


@dataclass(frozen=True, slots=True)
class Credits:
    """Credits of one job run, in hundredths of a credit so that the total is exact."""

    compute: int
    dlc: int = 0
    user: int = 0
    storage: int = 0
    network: int = 0
    lease: int = 0
    lease_overage: int = 0
    ipranges: int = 0

    @property
    def total(self) -> int:
        return (
            self.compute + self.dlc + self.user + self.storage + self.network
            + self.lease + self.lease_overage + self.ipranges
        )


@dataclass(frozen=True, slots=True)
class Utilisation:
    median_cpu_pct: float
    max_cpu_pct: float
    median_ram_pct: float
    max_ram_pct: float


@dataclass(eq=False, slots=True)
class Job:
    id: str
    workflow: Workflow
    spec: JobSpec
    number: int
    status: str  # success | failed | infrastructure_fail | canceled
    queued_at: datetime
    started_at: datetime
    stopped_at: datetime
    utilisation: Utilisation | None = None  # None under 15 s: CircleCI samples every 15 s
    credits: Credits = Credits(compute=0)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def run_seconds(self) -> int:
        return round((self.stopped_at - self.started_at).total_seconds())
