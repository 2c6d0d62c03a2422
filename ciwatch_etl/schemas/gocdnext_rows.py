"""gocdnext run details as rows of the run, stage and job tables (see `gocdnext` for the tables).

Times are naive UTC (nanoseconds truncated to microseconds). Durations are computed here because
the API returns none: run time = finished - started, queue time = started - created. A value that
cannot be read (a malformed time) is kept null and noted in `Problems` for the caller to report.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import polars as pl

from ciwatch_etl.schemas.declared import POLARS_TYPES
from ciwatch_etl.sources.gocdnext.records import parse_time


def frame(columns: tuple[tuple[str, str], ...], rows: Sequence[Mapping[str, Any]]) -> pl.DataFrame:
    """Typed rows as a polars frame with exactly these columns.

    A value of the wrong JSON type becomes null (`strict=False`), so a required column's rule
    quarantines the row instead of the whole load failing.
    """
    return pl.DataFrame([
        pl.Series(name, [_cell(row.get(name), kind) for row in rows], dtype=POLARS_TYPES[kind], strict=False)
        for name, kind in columns
    ])


def _cell(value: Any, kind: str) -> Any:
    # An object where text was expected stays readable (JSON) rather than polars' repr of it.
    return _json(value) if kind == "varchar" and isinstance(value, (dict, list)) else value


class Problems(list[str]):
    """Values that could not be read (e.g. a malformed time): kept null, reported by the caller."""

    def time(self, value: Any, where: str) -> datetime | None:
        try:
            return parse_time(value)
        except (TypeError, ValueError):
            self.append(f"{where}: unreadable time {str(value)[:40]!r}")
            return None


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    return None if start is None or end is None else (end - start).total_seconds()


def _json(value: Any) -> str | None:
    return None if value in (None, {}, []) else json.dumps(value, sort_keys=True, separators=(",", ":"))


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def revision_and_branch(revisions: Mapping[str, Any] | None) -> tuple[str | None, str | None]:
    """The commit a run built: the first material (by id) with a branch, else the first whose
    revision is not a run id (upstream materials carry the upstream run's uuid, not a commit)."""
    entries = [
        entry for _, entry in sorted((revisions or {}).items())
        if isinstance(entry, Mapping) and entry.get("revision")
    ]
    for entry in entries:
        if entry.get("branch"):
            return str(entry["revision"]), str(entry["branch"])
    for entry in entries:
        if not _is_uuid(str(entry["revision"])):
            return str(entry["revision"]), None
    return None, None


def run_rows(
    detail: Mapping[str, Any], project: Mapping[str, Any] | None, server_host: str, problems: Problems
) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    """The run, stage and job rows of one `GET /api/v1/runs/{id}` body.

    `project` is the run's entry of the projects list (the detail carries only the slug).
    """
    where = f"run {detail.get('id')}"
    created = problems.time(detail.get("created_at"), f"{where} created_at")
    started = problems.time(detail.get("started_at"), f"{where} started_at")
    finished = problems.time(detail.get("finished_at"), f"{where} finished_at")
    created_date = None if created is None else created.date()
    revision, branch = revision_and_branch(detail.get("revisions"))
    stages = detail.get("stages") or []
    common = {"run_id": detail.get("id"), "run_created_date": created_date, "server_host": server_host,
              "project_slug": detail.get("project_slug"), "pipeline_name": detail.get("pipeline_name")}
    stage_rows, job_rows = [], []
    for stage in stages:
        jobs = stage.get("jobs") or []
        at = f"{where} stage {stage.get('id')}"
        stage_start = problems.time(stage.get("started_at"), f"{at} started_at")
        stage_end = problems.time(stage.get("finished_at"), f"{at} finished_at")
        stage_rows.append({
            **common, "stage_id": stage.get("id"), "stage_name": stage.get("name"), "ordinal": stage.get("ordinal"),
            "status": stage.get("status"), "started_at": stage_start, "finished_at": stage_end,
            "duration_seconds": _seconds(stage_start, stage_end), "job_count": len(jobs),
        })
        job_rows += [_job_row(job, stage, common, problems) for job in jobs]
    run = {
        "run_id": detail.get("id"),
        "created_date": created_date,
        "server_host": server_host,
        "project_id": None if project is None else project.get("id"),
        "project_slug": detail.get("project_slug"),
        "project_name": None if project is None else project.get("name"),
        "pipeline_id": detail.get("pipeline_id"),
        "pipeline_name": detail.get("pipeline_name"),
        "counter": detail.get("counter"),
        "cause": detail.get("cause"),
        "status": detail.get("status"),
        "triggered_by": detail.get("triggered_by"),
        "branch": branch,
        "revision": revision,
        "revisions": _json(detail.get("revisions")),
        "cause_detail": _json(detail.get("cause_detail")),
        "queue_reason": detail.get("queue_reason"),
        "cancel_reason": detail.get("cancel_reason"),
        "superseded_by": detail.get("superseded_by"),
        "has_services": detail.get("has_services"),
        "service_names": ",".join(detail.get("service_names") or []) or None,
        "check_reporting_mode": detail.get("check_reporting_mode"),
        "created_at": created,
        "started_at": started,
        "finished_at": finished,
        "duration_seconds": _seconds(started, finished),
        "queue_seconds": _seconds(created, started),
        "stage_count": len(stages),
        "job_count": len(job_rows),
    }
    return run, stage_rows, job_rows


def _job_row(
    job: Mapping[str, Any], stage: Mapping[str, Any], common: Mapping[str, Any], problems: Problems
) -> dict[str, Any]:
    def time(name: str) -> datetime | None:
        return problems.time(job.get(name), f"run {common['run_id']} job {job.get('id')} {name}")

    started, finished = time("started_at"), time("finished_at")
    return {
        **common,
        "job_id": job.get("id"),
        "stage_id": job.get("stage_run_id") or stage.get("id"),
        "stage_name": stage.get("name"),
        "job_name": job.get("name"),
        "matrix_key": job.get("matrix_key"),
        "image": job.get("image"),
        "status": job.get("status"),
        "attempt": job.get("attempt"),
        "exit_code": job.get("exit_code"),
        "error": job.get("error"),
        "agent_id": job.get("agent_id"),
        "started_at": started,
        "finished_at": finished,
        "duration_seconds": _seconds(started, finished),
        "cancel_requested_at": time("cancel_requested_at"),
        "is_approval_gate": bool(job.get("approval_gate")),
        "awaiting_since": time("awaiting_since"),
        "approval_decision": job.get("decision"),
        "approval_decided_by": job.get("decided_by"),
        "approval_decided_at": time("decided_at"),
    }
