"""gocdnext run details as rows of the run, stage and job tables (see `gocdnext` for the tables):
each column is declared once, as a `JsonField` read from the run, stage or job item, computed
from it, or taken from its parents' context (the run's ids, the stage, the project's list entry).

Times are naive UTC (nanoseconds truncated to microseconds). Durations are computed here because
the API returns none: run time = finished - started, queue time = started - created. A value that
cannot be read (a malformed time) is kept null and noted in `Problems` for the caller to report,
and one of the wrong JSON type becomes null in `frame`: such a row lands unless a rule of the
table quarantines it (the JsonTable path would quarantine it for its `_parse_errors`).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import polars as pl

from ciwatch_etl.schemas.declared import POLARS_TYPES
from ciwatch_etl.schemas.json_rows import Compute, JsonField, dig, text_fields
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


def _seconds_between(start: str, end: str) -> Compute:
    return lambda _, row: _seconds(row[start], row[end])


def _count(nested: str) -> Compute:
    return lambda item, _: len(item.get(nested) or [])


def _context(**kinds: str) -> tuple[JsonField, ...]:
    """Columns taken from the context (the parents of the item), `column="kind"` each, in order."""
    return tuple(JsonField(column, kind) for column, kind in kinds.items())


def _times(**paths: str) -> tuple[JsonField, ...]:
    return tuple(JsonField(column, "timestamp", path) for column, path in paths.items())


_PARENT_RUN = _context(run_id="varchar", run_created_date="date", server_host="varchar", project_slug="varchar",
                       pipeline_name="varchar")
_TIMING = (*_times(started_at="started_at", finished_at="finished_at"),
           JsonField("duration_seconds", "double", compute=_seconds_between("started_at", "finished_at")))

RUN_FIELDS: tuple[JsonField, ...] = (
    JsonField("run_id", "varchar", "id"),
    JsonField("created_date", "date", compute=lambda _, row: row["created_at"] and row["created_at"].date()),
    *_context(server_host="varchar", project_id="varchar"),
    *text_fields(project_slug="project_slug"),
    *_context(project_name="varchar"),
    *text_fields(pipeline_id="pipeline_id", pipeline_name="pipeline_name"),
    JsonField("counter", "bigint", "counter"),
    *text_fields(cause="cause", status="status", triggered_by="triggered_by"),
    JsonField("branch", "varchar", compute=lambda item, _: revision_and_branch(item.get("revisions"))[1]),
    JsonField("revision", "varchar", compute=lambda item, _: revision_and_branch(item.get("revisions"))[0]),
    # JSON with sorted keys: a stable row hash
    JsonField("revisions", "varchar", compute=lambda item, _: _json(item.get("revisions"))),
    JsonField("cause_detail", "varchar", compute=lambda item, _: _json(item.get("cause_detail"))),
    *text_fields(queue_reason="queue_reason", cancel_reason="cancel_reason", superseded_by="superseded_by"),
    JsonField("has_services", "boolean", "has_services"),
    JsonField("service_names", "varchar", compute=lambda item, _: ",".join(item.get("service_names") or []) or None),
    *text_fields(check_reporting_mode="check_reporting_mode"),
    *_times(created_at="created_at"),
    *_TIMING,
    JsonField("queue_seconds", "double", compute=_seconds_between("created_at", "started_at")),
    JsonField("stage_count", "bigint", compute=_count("stages")),
    JsonField("job_count", "bigint",
              compute=lambda item, _: sum(len(stage.get("jobs") or []) for stage in item.get("stages") or [])),
)

STAGE_FIELDS: tuple[JsonField, ...] = (
    JsonField("stage_id", "varchar", "id"),
    *_PARENT_RUN,
    *text_fields(stage_name="name"),
    JsonField("ordinal", "bigint", "ordinal"),
    *text_fields(status="status"),
    *_TIMING,
    JsonField("job_count", "bigint", compute=_count("jobs")),
)

JOB_FIELDS: tuple[JsonField, ...] = (
    JsonField("job_id", "varchar", "id"),
    JsonField("stage_id", "varchar", compute=lambda item, row: item.get("stage_run_id") or row["stage_id"]),
    *_PARENT_RUN,
    *_context(stage_name="varchar"),
    *text_fields(job_name="name", matrix_key="matrix_key", image="image", status="status"),
    JsonField("attempt", "bigint", "attempt"),
    JsonField("exit_code", "bigint", "exit_code"),
    *text_fields(error="error", agent_id="agent_id"),
    *_TIMING,
    *_times(cancel_requested_at="cancel_requested_at"),
    JsonField("is_approval_gate", "boolean", compute=lambda item, _: bool(item.get("approval_gate"))),
    *_times(awaiting_since="awaiting_since"),
    *text_fields(approval_decision="decision", approval_decided_by="decided_by"),
    *_times(approval_decided_at="decided_at"),
)


def _row(
    item: Mapping[str, Any], fields: tuple[JsonField, ...], context: Mapping[str, Any], where: str, problems: Problems
) -> dict[str, Any]:
    """One item's row: its values as the JSON gives them (times read, unreadable ones noted), then
    the computed columns."""
    row: dict[str, Any] = {}
    for field in fields:
        if field.compute:
            continue
        value = dig(item, field.path) if field.path else context.get(field.column)
        row[field.column] = problems.time(value, f"{where} {field.path}") if field.kind == "timestamp" else value
    for field in fields:
        if field.compute:
            row[field.column] = field.compute(item, {**context, **row})
    return row


def run_rows(
    detail: Mapping[str, Any], project: Mapping[str, Any] | None, server_host: str, problems: Problems
) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    """The run, stage and job rows of one `GET /api/v1/runs/{id}` body.

    `project` is the run's entry of the projects list (the detail carries only the slug).
    """
    where = f"run {detail.get('id')}"
    project = project or {}
    run = _row(detail, RUN_FIELDS, {"server_host": server_host, "project_id": project.get("id"),
                                    "project_name": project.get("name")}, where, problems)
    parent = {"run_id": detail.get("id"), "run_created_date": run["created_date"], "server_host": server_host,
              "project_slug": detail.get("project_slug"), "pipeline_name": detail.get("pipeline_name")}
    stage_rows, job_rows = [], []
    for stage in detail.get("stages") or []:
        stage_rows.append(_row(stage, STAGE_FIELDS, parent, f"{where} stage {stage.get('id')}", problems))
        in_stage = {**parent, "stage_id": stage.get("id"), "stage_name": stage.get("name")}
        job_rows += [_row(job, JOB_FIELDS, in_stage, f"{where} job {job.get('id')}", problems)
                     for job in stage.get("jobs") or []]
    return run, stage_rows, job_rows
