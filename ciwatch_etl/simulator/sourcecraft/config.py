"""The synthetic repositories and their `.sourcecraft/ci.yaml`: workflows, tasks, cubes.

Every repo runs a `ci` workflow (build, lint, test); pushes to the main branch (and some manual
runs) also run `deploy`, whose `deploy-production` task needs `deploy-staging`. Cube times are
medians in seconds, scaled per repo and drawn around the median for each run.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CubeSpec:
    slug: str
    seconds: float
    artifacts: tuple[str, ...] = ()
    can_fail: bool = False  # a cube where failures and timeouts happen


@dataclass(frozen=True)
class TaskSpec:
    slug: str
    description: str
    cubes: tuple[CubeSpec, ...]
    needs: tuple[str, ...] = ()


@dataclass(frozen=True)
class WorkflowSpec:
    slug: str
    description: str
    tasks: tuple[TaskSpec, ...]  # in dependency order: a task's needs come before it


@dataclass(frozen=True)
class RepoSpec:
    org: str  # the organization's slug
    name: str  # the repository's slug
    activity: float  # scales the number of runs a day
    speed: float  # scales cube durations
    with_ids: bool  # "CI/CD entities don't have public IDs at this stage": most repos omit them
    title: str = ""  # the repository's name as people write it (the API's `name`; default: the slug)
    default_branch: str = "main"
    visibility: str = "private"


CHECKOUT = CubeSpec("checkout", 8)

CI = WorkflowSpec(
    "ci",
    "Build, lint and test every change",
    (
        TaskSpec("build", "Compile and package", (CHECKOUT, CubeSpec("install-deps", 45),
                                                   CubeSpec("compile", 120, ("dist/app.tar.gz",), can_fail=True))),
        TaskSpec("lint", "Static checks", (CHECKOUT, CubeSpec("lint", 40, can_fail=True))),
        TaskSpec(
            "test",
            "Unit and integration tests",
            (CHECKOUT, CubeSpec("unit-tests", 180, ("reports/junit.xml",), can_fail=True),
             CubeSpec("integration-tests", 300, can_fail=True)),
            needs=("build",),
        ),
    ),
)

DEPLOY = WorkflowSpec(
    "deploy",
    "Deploy the main branch to staging, then production",
    (
        TaskSpec("deploy-staging", "Build the image and roll it out to staging",
                 (CubeSpec("build-image", 150, ("image-digest.txt",)), CubeSpec("push-image", 30),
                  CubeSpec("helm-upgrade", 60, can_fail=True))),
        TaskSpec("deploy-production", "Roll the staged image out to production",
                 (CubeSpec("helm-upgrade", 70, can_fail=True), CubeSpec("smoke-test", 40, can_fail=True)),
                 needs=("deploy-staging",)),
    ),
)

REPOS: tuple[RepoSpec, ...] = (
    RepoSpec("acme", "payments-api", activity=1.0, speed=1.0, with_ids=False, title="Payments API"),
    RepoSpec("acme", "web-console", activity=0.7, speed=0.8, with_ids=False, title="Web Console"),
    RepoSpec("acme", "infra-live", activity=0.35, speed=1.4, with_ids=True, default_branch="master"),
)
# A repo without CI runs, and one the simulator's token may read but not list the runs of (another
# org's public repository).
EMPTY_REPO = RepoSpec("acme", "design-docs", activity=0.0, speed=1.0, with_ids=False)
FORBIDDEN_REPO = RepoSpec("partner-co", "shared-sdk", activity=0.5, speed=1.0, with_ids=False, visibility="public")

USERS: tuple[str, ...] = ("alice", "bob", "chen", "dmitry", "eva", "farid", "grace", "hiro")
