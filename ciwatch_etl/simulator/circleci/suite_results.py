"""Synthetic test results for the test-running jobs, for Insights' flaky-tests and test-metrics.

Each project has a fixed suite per test job (unit, integration, e2e), drawn once from the seed.
A job run's results follow from the world, never contradict it: a successful run passed every
test it did not skip, a failed run failed one to three tests (mostly from a handful of tests
that are flaky by nature), and a run that was canceled or hit an infrastructure failure
reported nothing. CircleCI calls a test flaky when it failed and passed on the same commit:
here, a test that failed in a workflow whose re-run (same pipeline, same commit) passed that job.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass

from ciwatch_etl.simulator.circleci.entities import Job, Project

# job name -> (suite size range, folder); other jobs report no tests
TEST_JOBS: dict[str, tuple[tuple[int, int], str]] = {
    "unit-tests": ((180, 420), "unit"),
    "integration-tests": ((40, 110), "integration"),
    "e2e-tests (chrome, linux)": ((20, 45), "e2e"),
}
_MODULES = ("auth", "billing", "cache", "checkout", "config", "export", "health", "invoice", "login",
            "metrics", "orders", "payments", "profile", "queue", "search", "session", "storage", "webhooks")
_VERBS = ("creates", "rejects", "retries", "expires", "parses", "renders", "refunds", "syncs", "validates",
          "paginates", "caches", "migrates", "locks", "streams", "signs", "archives")
_NOUNS = ("token", "invoice", "order", "user", "session", "payload", "cursor", "webhook", "report",
          "coupon", "address", "quota", "schedule", "receipt", "snapshot", "batch")
SKIP_EVERY = 41  # every 41st test of a suite is marked skipped
FLAKY_SHARE_OF_FAILURES = 0.7


@dataclass(frozen=True, slots=True)
class TestCase:
    index: int
    job_name: str
    test_name: str
    classname: str
    file: str
    source: str
    seconds: float  # typical duration
    flaky: bool  # fails now and then whatever the code does

    @property
    def skipped(self) -> bool:
        return self.index % SKIP_EVERY == SKIP_EVERY - 1


@functools.lru_cache(maxsize=256)
def _suite(seed: int, project_id: str, job_name: str) -> tuple[TestCase, ...]:
    (low, high), folder = TEST_JOBS[job_name]
    rng = random.Random(f"{seed}/{project_id}/tests/{job_name}")
    names: dict[tuple[str, str], None] = {}
    size = rng.randint(low, high)
    while len(names) < size:
        names[(rng.choice(_MODULES), f"test_{rng.choice(_VERBS)}_{rng.choice(_NOUNS)}")] = None
    flaky = set(rng.sample(range(size), k=rng.randint(2, 6)))
    scale = {"unit": 0.4, "integration": 4.0, "e2e": 25.0}[folder]
    return tuple(
        TestCase(
            index=i,
            job_name=job_name,
            test_name=name,
            classname=f"tests.{folder}.test_{module}.Test{module.capitalize()}",
            file=f"tests/{folder}/test_{module}.py",
            source=f"test-results/{folder}/junit.xml",
            seconds=round(rng.lognormvariate(0, 0.8) * scale, 3),
            flaky=i in flaky,
        )
        for i, (module, name) in enumerate(names)
    )


def suite(seed: int, project: Project, job_name: str) -> tuple[TestCase, ...]:
    return _suite(seed, project.id, job_name) if job_name in TEST_JOBS else ()


def reports_tests(job: Job) -> bool:
    """Whether the run stored test results: it ran a suite to the end, passing or failing."""
    return job.name in TEST_JOBS and job.status in {"success", "failed"}


def failed_tests(seed: int, job: Job) -> list[TestCase]:
    """The tests a finished run failed: none unless the job failed."""
    if job.status != "failed" or job.name not in TEST_JOBS:
        return []
    cases = [c for c in suite(seed, job.workflow.pipeline.project, job.name) if not c.skipped]
    flaky = [c for c in cases if c.flaky]
    rng = random.Random(f"{seed}/test-failures/{job.id}")
    failed: dict[int, TestCase] = {}
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        case = rng.choice(flaky if flaky and rng.random() < FLAKY_SHARE_OF_FAILURES else cases)
        failed[case.index] = case
    return sorted(failed.values(), key=lambda c: c.index)


def durations(seed: int, job: Job) -> dict[int, float]:
    """Seconds each executed (not skipped) test took in this run, by test index."""
    rng = random.Random(f"{seed}/test-durations/{job.id}")
    return {c.index: round(c.seconds * rng.uniform(0.7, 1.5), 3)
            for c in suite(seed, job.workflow.pipeline.project, job.name) if not c.skipped}
