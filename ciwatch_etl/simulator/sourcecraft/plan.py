"""A run's whole life, decided when it is created: when each cube starts, ends, and how.

A `RunPlan` holds fixed times; what the API shows at a moment (`render.py`) follows from
comparing them with "now", so moving the clock on finishes running runs without any bookkeeping.
Failures stop the rest of their task and every task that needs it (those cubes end `canceled`
without starting); a cancel stops everything still running at that moment.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from ciwatch_etl.simulator.sourcecraft.config import TaskSpec, WorkflowSpec

CUBE_TIMEOUT = timedelta(minutes=30)


@dataclass(frozen=True)
class CubePlan:
    slug: str
    needs: tuple[str, ...]
    created_at: datetime
    started_at: datetime | None  # None: never ran (skipped after a failure, or canceled before it started)
    settled_at: datetime  # from this moment the cube has its final status
    final_status: str
    artifacts: tuple[str, ...]
    artifact_missing: bool  # the cube succeeded but did not upload what it declared


@dataclass(frozen=True)
class TaskPlan:
    slug: str
    description: str
    needs: tuple[str, ...]
    cubes: tuple[CubePlan, ...]


@dataclass(frozen=True)
class WorkflowPlan:
    slug: str
    description: str
    tasks: tuple[TaskPlan, ...]


@dataclass(frozen=True)
class RunPlan:
    key: str  # stable identity within the world, e.g. "payments-api/2026-11-20/3"
    created_at: datetime
    prepared_at: datetime  # workflows are known from here on
    event_type: str
    user: str
    pull_number: int | None  # pr_update runs only
    workflows: tuple[WorkflowPlan, ...]
    error_messages: tuple[str, ...] = ()

    def cubes(self) -> list[CubePlan]:
        return [c for w in self.workflows for t in w.tasks for c in t.cubes]

    @property
    def finished_at(self) -> datetime:
        return max(c.settled_at for c in self.cubes())


@dataclass(frozen=True)
class Failure:
    workflow: str
    task: str
    cube: str
    status: str  # failed | timeout


def pick_failure(rng: random.Random, workflows: tuple[WorkflowSpec, ...], status: str) -> Failure:
    candidates = [(w.slug, t.slug, c.slug) for w in workflows for t in w.tasks for c in t.cubes if c.can_fail]
    workflow, task, cube = rng.choice(candidates)
    return Failure(workflow, task, cube, status)


def schedule(
    rng: random.Random,
    workflows: tuple[WorkflowSpec, ...],
    prepared_at: datetime,
    start: datetime,
    speed: float,
    failure: Failure | None,
) -> tuple[WorkflowPlan, ...]:
    """Times of every cube when workflows run side by side from `start` (tasks after their needs)."""
    return tuple(
        WorkflowPlan(spec.slug, spec.description, _schedule_tasks(rng, spec, prepared_at, start, speed, failure))
        for spec in workflows
    )


def _schedule_tasks(
    rng: random.Random, spec: WorkflowSpec, prepared_at: datetime, start: datetime, speed: float,
    failure: Failure | None,
) -> tuple[TaskPlan, ...]:
    ends: dict[str, tuple[datetime, bool]] = {}  # task -> (when it ended, whether it succeeded)
    tasks = []
    for task in spec.tasks:
        needs = [ends[n] for n in task.needs]
        failed_needs = [end for end, ok in needs if not ok]
        if failed_needs:
            skipped_at = max(failed_needs)
            cubes = tuple(_skipped(c.slug, _cube_needs(task, i), prepared_at, skipped_at)
                          for i, c in enumerate(task.cubes))
            ends[task.slug] = (skipped_at, False)
        else:
            ready = max((end for end, _ in needs), default=start)
            cubes, end, ok = _run_cubes(rng, spec, task, prepared_at, ready + _seconds(rng.uniform(1, 20)), speed,
                                        failure)
            ends[task.slug] = (end, ok)
        tasks.append(TaskPlan(task.slug, task.description, task.needs, cubes))
    return tuple(tasks)


def _run_cubes(
    rng: random.Random, workflow: WorkflowSpec, task: TaskSpec, created_at: datetime, start: datetime,
    speed: float, failure: Failure | None,
) -> tuple[tuple[CubePlan, ...], datetime, bool]:
    cubes, at, end, failed_at = [], start, start, None
    for i, spec in enumerate(task.cubes):
        needs = _cube_needs(task, i)
        if failed_at is not None:
            cubes.append(_skipped(spec.slug, needs, created_at, failed_at))
            continue
        duration = _seconds(spec.seconds * speed * rng.lognormvariate(0, 0.25))
        status = "success"
        if failure is not None and (failure.workflow, failure.task, failure.cube) == (workflow.slug, task.slug,
                                                                                      spec.slug):
            status = failure.status
            duration = CUBE_TIMEOUT if status == "timeout" else duration * rng.uniform(0.2, 1.0)
        end = at + duration
        cubes.append(CubePlan(spec.slug, needs, created_at, at, end, status, spec.artifacts,
                              artifact_missing=status == "success" and bool(spec.artifacts) and rng.random() < 0.05))
        if status != "success":
            failed_at = end
        at = end + _seconds(rng.uniform(0.5, 3))
    return tuple(cubes), failed_at or end, failed_at is None


def cancel_at(workflows: tuple[WorkflowPlan, ...], moment: datetime) -> tuple[WorkflowPlan, ...]:
    """The plan as it ends when someone cancels the run at `moment`."""

    def cancel(cube: CubePlan) -> CubePlan:
        if cube.settled_at <= moment:
            return cube
        started = cube.started_at if cube.started_at is not None and cube.started_at < moment else None
        return replace(cube, started_at=started, settled_at=moment, final_status="canceled", artifact_missing=False)

    return tuple(
        replace(w, tasks=tuple(replace(t, cubes=tuple(cancel(c) for c in t.cubes)) for t in w.tasks))
        for w in workflows
    )


def _skipped(slug: str, needs: tuple[str, ...], created_at: datetime, at: datetime) -> CubePlan:
    return CubePlan(slug, needs, created_at, None, at, "canceled", (), artifact_missing=False)


def _cube_needs(task: TaskSpec, index: int) -> tuple[str, ...]:
    """Cubes of a task run one after another: each needs the one before it."""
    return (task.cubes[index - 1].slug,) if index else ()


def _seconds(value: float) -> timedelta:
    return timedelta(microseconds=round(value * 1_000_000))
