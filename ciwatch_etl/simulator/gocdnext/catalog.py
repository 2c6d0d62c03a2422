"""What the synthetic gocdnext server is configured with: projects, pipelines, stages, jobs.

Static data only. `generator` draws runs from it, `world` gives every project and pipeline its
deterministic id. Pipelines are of three kinds, as teams usually set them up:
- build: push and pull-request builds (compile, then tests incl. a flaky, retried integration job)
- deploy: serial, started by a green main build (upstream), a tag or by hand; staging first,
  production behind an approval gate
- nightly: scheduled at 02:00 UTC; skipped when nothing changed since the last night
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GateSpec:
    approvers: tuple[str, ...]
    required: int
    description: str


@dataclass(frozen=True)
class JobSpec:
    name: str
    image: str
    minutes: tuple[float, float]  # typical run time range of one attempt
    failure_rate: float
    matrix: tuple[str, ...] = ()  # one job per matrix key, e.g. "OS=linux,ARCH=amd64"
    retries: int = 0  # automatic re-tries of a failed attempt (`attempt` counts them)
    gate: GateSpec | None = None


@dataclass(frozen=True)
class StageSpec:
    name: str
    jobs: tuple[JobSpec, ...]


@dataclass(frozen=True)
class PipelineSpec:
    name: str
    kind: str  # build | deploy | nightly
    stages: tuple[StageSpec, ...]
    services: tuple[str, ...] = ()
    serial: bool = False  # one run at a time; later runs queue with `serial-busy:<run id>`


@dataclass(frozen=True)
class ProjectSpec:
    slug: str
    name: str
    description: str
    provider: str  # github | gitlab | bitbucket | manual
    activity: float  # scales how many pushes a weekday sees
    pipelines: tuple[PipelineSpec, ...]
    check_reporting_mode: str = "both"


_MATRIX = ("OS=linux,ARCH=amd64", "OS=linux,ARCH=arm64")


def _build(services: tuple[str, ...] = ()) -> PipelineSpec:
    return PipelineSpec(
        name="build",
        kind="build",
        services=services,
        stages=(
            StageSpec("build", (JobSpec("compile", "golang:1.24", (1.5, 4.0), 0.04),)),
            StageSpec(
                "test",
                (
                    JobSpec("unit-tests", "golang:1.24", (2.0, 6.0), 0.06, matrix=_MATRIX),
                    JobSpec("integration-tests", "golang:1.24", (4.0, 11.0), 0.12, retries=1),
                    JobSpec("lint", "golangci/golangci-lint:v2.1", (0.5, 1.5), 0.03),
                ),
            ),
        ),
    )


_DEPLOY = PipelineSpec(
    name="deploy",
    kind="deploy",
    serial=True,
    stages=(
        StageSpec("package", (JobSpec("docker-image", "docker:27", (2.0, 5.0), 0.02),)),
        StageSpec("deploy-staging", (JobSpec("deploy-staging", "alpine/helm:3.17", (1.0, 3.0), 0.05),)),
        StageSpec("verify", (JobSpec("smoke-tests", "mcr.microsoft.com/playwright:v1.52", (2.0, 6.0), 0.08),)),
        StageSpec(
            "deploy-production",
            (
                JobSpec(
                    "deploy-production",
                    "alpine/helm:3.17",
                    (1.0, 3.0),
                    0.04,
                    gate=GateSpec(("alice", "dmitri"), 1, "Promote to production"),
                ),
            ),
        ),
    ),
)

_NIGHTLY = PipelineSpec(
    name="nightly",
    kind="nightly",
    services=("postgres",),
    stages=(
        StageSpec(
            "e2e",
            (JobSpec("e2e-suite", "mcr.microsoft.com/playwright:v1.52", (18.0, 45.0), 0.15,
                     matrix=("BROWSER=chromium", "BROWSER=firefox")),),
        ),
        StageSpec("report", (JobSpec("coverage-report", "python:3.12-slim", (0.5, 2.0), 0.01),)),
    ),
)

PROJECTS: tuple[ProjectSpec, ...] = (
    ProjectSpec("storefront", "Storefront", "Customer-facing web shop", "github", 1.0,
                (_build(), _DEPLOY, _NIGHTLY)),
    ProjectSpec("payments-api", "Payments API", "Card and wallet payments", "gitlab", 0.8,
                (_build(("postgres", "redis")), _DEPLOY, _NIGHTLY), check_reporting_mode="commit_status"),
    ProjectSpec("platform-infra", "Platform Infra", "Terraform and cluster add-ons", "github", 0.5,
                (_build(), _DEPLOY), check_reporting_mode="check_run"),
    ProjectSpec("mobile-app", "Mobile App", "", "bitbucket", 0.6, (_build(), _NIGHTLY)),
    ProjectSpec("docs-portal", "Docs Portal", "Developer documentation", "manual", 0.2, (_build(),)),
)

DEFAULT_BRANCH = "main"  # every project's: pushes to it deploy, its pull requests target it
AUTHORS: tuple[str, ...] = ("alice", "bob", "chen", "dmitri", "eva", "farah", "goran", "hana")
BRANCH_TOPICS: tuple[str, ...] = (
    "checkout", "retry", "cache", "metrics", "pricing", "search", "upgrade", "cleanup",
    "oauth", "export", "timeouts", "i18n",
)
AGENT_COUNT = 6
