"""A run plan seen at the world's current time, as gocdnext's Go handlers encode it.

Go's `encoding/json` rules apply: times are RFC 3339 with up to nine fraction digits (trailing
zeros trimmed), `omitempty` fields are left out when empty, slices declared without
`omitempty` are always present.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ciwatch_etl.simulator.gocdnext.catalog import DEFAULT_BRANCH
from ciwatch_etl.simulator.gocdnext.plans import (
    TERMINAL,
    Attempt,
    JobPlan,
    Pipeline,
    Project,
    RunPlan,
    StagePlan,
)

LOG_LINES_PER_JOB = 4


def go_time(moment: datetime) -> str:
    """RFC 3339 with nanoseconds, like Go's `time.RFC3339Nano`.

    Python keeps microseconds; the three extra digits are derived from the value itself, so the
    same instant always prints the same and truncating to microseconds gives the instant back.
    """
    moment = moment.astimezone(UTC)
    nanos = moment.microsecond * 1000 + (moment.microsecond * 7 + moment.second * 13) % 1000
    fraction = f"{nanos:09d}".rstrip("0")
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + (f".{fraction}" if fraction else "") + "Z"


def _put(payload: dict[str, Any], key: str, value: Any) -> None:
    """An `omitempty` field: left out when None, empty or zero."""
    if value is None or value == "" or value == 0 or value == [] or value == {}:
        return
    payload[key] = go_time(value) if isinstance(value, datetime) else value


@dataclass(frozen=True)
class JobState:
    status: str
    attempt: int
    current: Attempt | None  # the attempt shown (started at `now`), if any
    finished_at: datetime | None


def job_state(job: JobPlan, now: datetime) -> JobState:
    started = [a for a in job.attempts if a.started_at <= now]
    if started:
        index, attempt = len(started) - 1, started[-1]
        if now < attempt.finished_at:
            return JobState("running", index, attempt, None)
        if index == len(job.attempts) - 1:
            return JobState(attempt.status, index, attempt, attempt.finished_at)
        return JobState("queued", index + 1, None, None)  # failed, the retry not dispatched yet
    if job.closed_at is not None and job.closed_at <= now:
        return JobState(job.closed_status or "skipped", 0, None, job.closed_at)
    if job.gate is not None and job.gate.awaiting_since <= now:
        return JobState("awaiting_approval", 0, None, None)
    return JobState("queued", 0, None, None)


def _stage_times(stage: StagePlan, states: Sequence[JobState], now: datetime) -> tuple[str, datetime | None,
                                                                                     datetime | None]:
    starts = [a.started_at for job in stage.jobs for a in job.attempts if a.started_at <= now]
    starts += [job.gate.awaiting_since for job in stage.jobs
               if job.gate is not None and job.gate.awaiting_since <= now]
    started = min(starts) if starts else None
    statuses = [s.status for s in states]
    if all(s in TERMINAL for s in statuses):
        finished = max(s.finished_at for s in states if s.finished_at is not None)
        if "failed" in statuses:
            return "failed", started, finished
        if "canceled" in statuses:
            return "canceled", started, finished
        return ("skipped" if set(statuses) == {"skipped"} else "success"), started, finished
    busy = started is not None or any(s in TERMINAL for s in statuses)
    return ("running" if busy else "queued"), started, None


def run_status(run: RunPlan, now: datetime) -> str:
    if run.finished_at <= now:
        return run.status
    if any(job_state(job, now).status == "awaiting_approval" for stage in run.stages for job in stage.jobs):
        return "waiting"
    if run.started_at is not None and run.started_at <= now:
        return "running"
    return "queued"


def run_summary(run: RunPlan, now: datetime) -> dict[str, Any]:
    """RunSummary (store/reads.go): the fields shared by the list and the detail."""
    pipeline = run.pipeline
    status = run_status(run, now)
    payload: dict[str, Any] = {
        "id": run.id,
        "pipeline_id": pipeline.id,
        "pipeline_name": pipeline.name,
        "counter": run.counter,
        "cause": run.cause,
        "status": status,
        "has_services": bool(pipeline.services),
        "service_names": list(pipeline.services),
    }
    _put(payload, "queue_reason", run.queue_reason if status == "queued" else None)
    superseded = run.superseded_by if status == "canceled" else None
    _put(payload, "cancel_reason", None if superseded is None else f"superseded by #{superseded.counter}")
    _put(payload, "superseded_by", None if superseded is None else superseded.id)
    payload["created_at"] = go_time(run.created_at)
    _put(payload, "started_at", run.started_at if run.started_at is not None and run.started_at <= now else None)
    _put(payload, "finished_at", run.finished_at if run.finished_at <= now else None)
    _put(payload, "triggered_by", run.triggered_by)
    return payload


def global_run_summary(run: RunPlan, now: datetime) -> dict[str, Any]:
    """GlobalRunSummary: a row of GET /api/v1/runs."""
    project = run.pipeline.project
    return {**run_summary(run, now), "project_id": project.id, "project_slug": project.slug,
            "project_name": project.name}


def run_detail(run: RunPlan, now: datetime, logs: int = 200, head: int = 0) -> dict[str, Any]:
    """RunDetail: GET /api/v1/runs/{id}. `logs`/`head` lines per job (0 leaves logs out)."""
    payload = run_summary(run, now)
    payload["project_slug"] = run.pipeline.project.slug
    payload["check_reporting_mode"] = run.pipeline.project.check_reporting_mode
    _put(payload, "cause_detail", run.cause_detail)
    _put(payload, "revisions", run.revisions)
    payload["stages"] = [_stage(stage, now, logs, head) for stage in run.stages]
    return payload


def _stage(stage: StagePlan, now: datetime, logs: int, head: int) -> dict[str, Any]:
    states = [job_state(job, now) for job in stage.jobs]
    status, started, finished = _stage_times(stage, states, now)
    payload: dict[str, Any] = {"id": stage.id, "name": stage.name, "ordinal": stage.ordinal, "status": status}
    _put(payload, "started_at", started)
    _put(payload, "finished_at", finished)
    payload["jobs"] = [_job(job, state, stage.id, now, logs, head) for job, state in zip(stage.jobs, states)]
    return payload


def _job(job: JobPlan, state: JobState, stage_id: str, now: datetime, logs: int, head: int) -> dict[str, Any]:
    attempt = state.current
    payload: dict[str, Any] = {"id": job.id, "stage_run_id": stage_id, "name": job.name}
    _put(payload, "matrix_key", job.matrix_key)
    _put(payload, "image", job.image)
    payload["status"] = state.status
    if state.finished_at is not None and attempt is not None and attempt.exit_code is not None:
        payload["exit_code"] = attempt.exit_code  # a pointer: 0 is kept
    if state.finished_at is not None:
        _put(payload, "error", job.closed_error if attempt is None else attempt.error)
    _put(payload, "started_at", None if attempt is None else attempt.started_at)
    _put(payload, "finished_at", state.finished_at)
    _put(payload, "agent_id", None if attempt is None else attempt.agent_id)
    payload["attempt"] = state.attempt
    cancel = job.cancel_requested_at
    _put(payload, "cancel_requested_at", cancel if cancel is not None and cancel <= now else None)
    if attempt is not None and (logs or head):
        lines = _log_lines(job, attempt, now)
        tail = lines[-logs:] if logs else []
        _put(payload, "logs", tail)
        _put(payload, "logs_head", lines[:head] if head else [])
        _put(payload, "logs_total", len(lines))
    if job.gate is not None:
        gate = job.gate
        payload.update({
            "approval_gate": True,
            "approvers": list(gate.approvers),
            "approval_required": gate.required,
            "approval_description": gate.description,
            "approval_quorum_label": f"{gate.required} of {len(gate.approvers)}",
        })
        _put(payload, "awaiting_since", gate.awaiting_since if gate.awaiting_since <= now else None)
        if gate.decided_at is not None and gate.decided_at <= now:
            payload.update({"decided_by": gate.decided_by, "decided_at": go_time(gate.decided_at),
                            "decision": gate.decision})
    return payload


def _log_lines(job: JobPlan, attempt: Attempt, now: datetime) -> list[dict[str, Any]]:
    end = min(now, attempt.finished_at)
    step = (end - attempt.started_at) / LOG_LINES_PER_JOB
    texts = (f"$ run {job.name}", "resolving dependencies", "running", f"done: {attempt.status}")
    return [
        {"seq": i + 1, "stream": "stdout", "at": go_time(attempt.started_at + step * i), "text": text}
        for i, text in enumerate(texts)
        if attempt.started_at + step * i <= now
    ]


def project_summary(project: Project, pipeline_count: int, runs: Sequence[RunPlan], now: datetime) -> dict[str, Any]:
    """ProjectSummary: an item of GET /api/v1/projects; `runs` newest first, visible at `now`."""
    statuses = [run_status(run, now) for run in runs]
    if not pipeline_count:
        status = "no_pipelines"
    elif not runs:
        status = "never_run"
    elif any(s not in TERMINAL for s in statuses):
        status = "running"
    else:
        decided = next((s for s in statuses if s in ("success", "failed")), "success")
        status = "failing" if decided == "failed" else "success"
    payload: dict[str, Any] = {"id": project.id, "slug": project.slug, "name": project.name}
    _put(payload, "description", project.description)
    _put(payload, "config_path", ".gocdnext/")
    payload.update({
        "created_at": go_time(project.created_at),
        "updated_at": go_time(project.created_at),
        "pipeline_count": pipeline_count,
        "run_count": len(runs),
    })
    _put(payload, "latest_run_at", runs[0].created_at if runs else None)
    _put(payload, "provider", project.provider)
    payload["status"] = status
    payload["labels"] = []
    return payload


# Where each SCM provider hosts the simulated repositories (`manual` projects have no binding).
_SCM_HOSTS = {"github": "github.com", "gitlab": "gitlab.com", "bitbucket": "bitbucket.org"}


def project_detail(project: Project, pipelines: Sequence[tuple[Pipeline, Sequence[str], Sequence[tuple[str, str]]]],
                   runs: Sequence[RunPlan], limit: int, now: datetime) -> dict[str, Any]:
    """ProjectDetail (GET /api/v1/projects/{slug}): the project, its SCM binding, its pipelines and
    its newest `limit` runs. `pipelines` are (pipeline, stage names, (job, stage) names); `runs`
    the project's runs visible at `now`, newest first."""
    payload: dict[str, Any] = {"project": project_summary(project, len(pipelines), runs, now)}
    host = _SCM_HOSTS.get(project.provider)
    if host is not None:  # SCMSource is nil until a repository is bound
        payload["scm_source"] = {
            "id": str(uuid.uuid5(uuid.UUID(project.id), "scm_source")),
            "provider": project.provider,
            "url": f"https://{host}/acme/{project.slug}",
            "default_branch": DEFAULT_BRANCH,
        }
    payload["pipelines"] = [_pipeline_summary(pipeline, stages, jobs, runs, now)
                            for pipeline, stages, jobs in pipelines]
    payload["runs"] = [run_summary(run, now) for run in runs[:limit]]
    return payload


def _pipeline_summary(pipeline: Pipeline, stages: Sequence[str], jobs: Sequence[tuple[str, str]],
                      runs: Sequence[RunPlan], now: datetime) -> dict[str, Any]:
    payload: dict[str, Any] = {"id": pipeline.id, "name": pipeline.name, "definition_version": 1,
                               "updated_at": go_time(pipeline.project.created_at)}
    _put(payload, "definition_stages", list(stages))
    _put(payload, "definition_jobs", [{"name": job, "stage": stage} for job, stage in jobs])
    latest = next((run for run in runs if run.pipeline.id == pipeline.id), None)
    if latest is not None:
        payload["latest_run"] = run_summary(latest, now)
    return payload
