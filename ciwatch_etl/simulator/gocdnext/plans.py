"""A run as planned from start to end, with absolute times: what the server will show at any `now`.

The generator decides everything about a run when it creates it (queue time, every job attempt,
approval decisions, a cancel by a newer run). What the API shows is that plan seen at the
world's current time (`view`), so moving time forward (`advance`) turns queued and running
runs into finished ones without any further randomness.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

TERMINAL = frozenset({"success", "failed", "canceled", "skipped"})


@dataclass(frozen=True)
class Project:
    id: str
    slug: str
    name: str
    description: str
    provider: str
    check_reporting_mode: str
    created_at: datetime
    git_material_id: str
    upstream_material_id: str  # the deploy pipeline's upstream material (the build pipeline)


@dataclass(frozen=True)
class Pipeline:
    id: str
    project: Project
    name: str
    kind: str
    services: tuple[str, ...]
    serial: bool


@dataclass(frozen=True)
class Attempt:
    started_at: datetime
    finished_at: datetime
    status: str  # success | failed | canceled
    exit_code: int | None
    agent_id: str
    error: str | None = None


@dataclass(frozen=True)
class Gate:
    approvers: tuple[str, ...]
    required: int
    description: str
    awaiting_since: datetime
    decided_at: datetime | None  # None: nobody decided before the run was canceled
    decision: str | None  # approved | rejected
    decided_by: str | None


@dataclass(frozen=True)
class JobPlan:
    id: str
    name: str
    matrix_key: str | None
    image: str
    attempts: tuple[Attempt, ...]  # consecutive: a retry starts when the failed attempt ends
    gate: Gate | None = None
    closed_at: datetime | None = None  # a job that never ran: when it was skipped/canceled/rejected
    closed_status: str | None = None
    closed_error: str | None = None
    cancel_requested_at: datetime | None = None

    @property
    def ends_at(self) -> datetime:
        return self.attempts[-1].finished_at if self.attempts else self.closed_at  # type: ignore[return-value]

    @property
    def final_status(self) -> str:
        return self.attempts[-1].status if self.attempts else self.closed_status  # type: ignore[return-value]


@dataclass(frozen=True)
class StagePlan:
    id: str
    name: str
    ordinal: int
    jobs: tuple[JobPlan, ...]


@dataclass
class RunPlan:
    id: str
    pipeline: Pipeline
    created_at: datetime
    cause: str
    cause_detail: dict[str, Any] | None
    revisions: dict[str, dict[str, str]] | None
    triggered_by: str | None
    stages: tuple[StagePlan, ...]
    started_at: datetime | None
    finished_at: datetime
    status: str
    superseded_by: RunPlan | None = None
    queue_reason: str | None = None
    counter: int = 0  # rank within the pipeline by creation; set by the world


def cancel_at(run: RunPlan, moment: datetime, by: RunPlan) -> None:
    """Cancel `run` at `moment` because `by` supersedes it, if it is still unfinished then."""
    if moment >= run.finished_at or moment < run.created_at:
        return
    run.stages = tuple(
        replace(stage, jobs=tuple(_cancel_job(job, moment) for job in stage.jobs)) for stage in run.stages
    )
    run.finished_at = moment
    run.status = "canceled"
    run.superseded_by = by
    if run.started_at is not None and run.started_at >= moment:
        run.started_at = None


def _cancel_job(job: JobPlan, moment: datetime) -> JobPlan:
    if job.ends_at <= moment:
        return job
    kept = tuple(a for a in job.attempts if a.started_at < moment)
    gate = job.gate
    if gate is not None and (gate.decided_at is None or gate.decided_at > moment):
        gate = replace(gate, decided_at=None, decision=None, decided_by=None)
    if not kept:
        return replace(job, attempts=(), gate=gate, closed_at=moment, closed_status="canceled",
                       closed_error=None, cancel_requested_at=moment)
    last = replace(kept[-1], finished_at=moment, status="canceled", exit_code=None, error="canceled")
    return replace(job, attempts=kept[:-1] + (last,), gate=gate, cancel_requested_at=moment)
