"""A run as the API shows it at a moment: protobuf-JSON `Run`, nested workflows, tasks, cubes.

Protobuf-JSON conventions (the API is served from protobuf messages): a field with its zero
value or no value is omitted, never `null` (empty ids, empty lists, a progress of 0 %);
timestamps are RFC 3339 in UTC with 0, 3, 6 or 9 fractional digits. Statuses follow from the
plan's times: `created` until the run is prepared (no workflows yet), `prepared` until a cube
starts, `processing` until every cube has settled, then the final status (timeout before failed
before canceled before success).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ciwatch_etl.simulator.sourcecraft.plan import CubePlan, TaskPlan, WorkflowPlan
from ciwatch_etl.simulator.sourcecraft.world import SimRun

_ID_NAMESPACE = uuid.UUID("a3d0c0de-5c1e-4e55-8f3a-6b3e9b7d2f10")
_FINAL_ORDER = ("timeout", "failed", "canceled", "success")


def render_run(run: SimRun, now: datetime, artifact_origin: str) -> dict[str, Any]:
    plan = run.plan
    ids = _Ids(run) if run.repo.with_ids else None
    body: dict[str, Any] = {"id": ids.of() if ids else "", "slug": run.slug}
    if now < plan.prepared_at:
        state = _State("created", {"created_at": plan.created_at, "updated_at": plan.created_at})
        workflows: list[dict[str, Any]] = []
    else:
        workflows = [_workflow(run, w, now, ids, artifact_origin) for w in plan.workflows]
        state = _combine([w["_state"] for w in workflows], now)
        if state.status == "created":
            state = _State("prepared", state.dates)
        state.dates["created_at"] = plan.created_at
        state.dates["updated_at"] = max(d for d in (plan.prepared_at, state.dates.get("updated_at")) if d)
    body["dates"] = _dates(state.dates)
    body["status"] = state.status
    body["workflows"] = [_strip(w) for w in workflows]
    body["event_type"] = plan.event_type
    if state.status in _FINAL_ORDER:
        body["error_messages"] = list(plan.error_messages)
    if plan.pull_number is not None:
        body["pull"] = {"id": _uuid(f"{run.repo_id}/pull/{plan.pull_number}"), "slug": str(plan.pull_number)}
    body["user"] = {"id": _uuid(f"user/{plan.user}"), "slug": plan.user}
    return _omit_empty(body)


@dataclass
class _State:
    status: str
    dates: dict[str, datetime | None]


class _Ids:
    def __init__(self, run: SimRun) -> None:
        self._prefix = f"{run.repo_id}/{run.slug}"

    def of(self, *path: str) -> str:
        return _uuid("/".join((self._prefix, *path)))


def _workflow(run: SimRun, plan: WorkflowPlan, now: datetime, ids: _Ids | None, origin: str) -> dict[str, Any]:
    tasks = [_task(run, plan.slug, t, now, ids, origin) for t in plan.tasks]
    state = _combine([t["_state"] for t in tasks], now)
    cubes = [c for t in plan.tasks for c in t.cubes]
    return {
        "_state": state,
        "id": ids.of(plan.slug) if ids else "",
        "slug": plan.slug,
        "description": plan.description,
        "dates": _dates(state.dates),
        "status": state.status,
        "tasks": [_strip(t) for t in tasks],
        "progress": _progress(run, plan.slug, cubes, plan.tasks, now, ids, origin, state.status),
    }


def _task(run: SimRun, workflow: str, plan: TaskPlan, now: datetime, ids: _Ids | None,
          origin: str) -> dict[str, Any]:
    cubes = [_cube(run, workflow, plan.slug, c, now, ids, origin) for c in plan.cubes]
    state = _combine([c["_state"] for c in cubes], now)
    return {
        "_state": state,
        "id": ids.of(workflow, plan.slug) if ids else "",
        "slug": plan.slug,
        "description": plan.description,
        "dates": _dates(state.dates),
        "status": state.status,
        "cubes": [_strip(c) for c in cubes],
        "progress": _progress(run, workflow, list(plan.cubes), [plan], now, ids, origin, state.status),
        "relations": {"needs": [{"name": n} for n in plan.needs]},
    }


def _cube(run: SimRun, workflow: str, task: str, plan: CubePlan, now: datetime, ids: _Ids | None,
          origin: str) -> dict[str, Any]:
    started = plan.started_at if plan.started_at is not None and plan.started_at <= now else None
    settled = now >= plan.settled_at
    status = plan.final_status if settled else ("processing" if started else "created")
    dates = {"created_at": plan.created_at, "started_at": started, "finished_at": plan.settled_at if settled else None}
    dates["updated_at"] = max(d for d in dates.values() if d is not None)
    path = (workflow, task, plan.slug)
    return {
        "_state": _State(status, dates),
        "id": ids.of(*path) if ids else "",
        "slug": plan.slug,
        "dates": _dates(dates, nanos=_nanos(run, path)),
        "status": status,
        "artifacts": [_artifact(run, path, a, plan, started, settled, ids, origin) for a in plan.artifacts],
        "relations": {"needs": [{"name": n} for n in plan.needs]},
    }


def _artifact(run: SimRun, path: tuple[str, ...], local_path: str, plan: CubePlan, started: datetime | None,
              settled: bool, ids: _Ids | None, origin: str) -> dict[str, Any] | None:
    if started is None:
        return None
    if not settled:
        status = "registered"
    elif plan.final_status == "success":
        status = "missing" if plan.artifact_missing else "success"
    else:
        status = "failed"
    obtained = plan.settled_at if status == "success" else None
    body = {
        "id": ids.of(*path, local_path) if ids else "",
        "local_path": local_path,
        "dates": _dates({"registered_at": started, "obtained_at": obtained,
                         "updated_at": plan.settled_at if settled else started}),
        "status": status,
    }
    if status == "success":
        # Temporary, like the real ones: a signature that expires. Never meant to be stored.
        signature = hashlib.sha256(f"{run.repo_id}/{run.slug}/{path}/{local_path}".encode()).hexdigest()[:32]
        body["download_url"] = (f"{origin}/artifacts/{run.repo_id}/{run.slug}/{'/'.join(path)}/{local_path}"
                                f"?expires=900&signature={signature}")
    return body


def _progress(run: SimRun, workflow: str, cubes: list[CubePlan], tasks: Sequence[TaskPlan], now: datetime,
              ids: _Ids | None, origin: str, status: str) -> dict[str, Any]:
    if status == "created":
        return {}
    settled = sum(now >= c.settled_at for c in cubes)
    progress: dict[str, Any] = {"percent": round(100.0 * settled / len(cubes), 2)}
    for task in tasks:
        for cube in task.cubes:
            if cube.started_at is not None and cube.started_at <= now < cube.settled_at:
                progress["current_cube"] = _strip(_cube(run, workflow, task.slug, cube, now, ids, origin))
                return progress
    return progress


def _combine(states: list[_State], now: datetime) -> _State:
    """A parent's status and dates from its children's."""
    created = [s.dates["created_at"] for s in states if s.dates.get("created_at")]
    started = [s.dates["started_at"] for s in states if s.dates.get("started_at")]
    updated = [s.dates["updated_at"] for s in states if s.dates.get("updated_at")]
    statuses = {s.status for s in states}
    finished = None
    if statuses <= set(_FINAL_ORDER):
        status = next(s for s in _FINAL_ORDER if s in statuses)
        finished = max(s.dates["finished_at"] for s in states)
    elif started or statuses & set(_FINAL_ORDER):
        status = "processing"
    else:
        status = "created"
    dates = {"created_at": min(created, default=None), "started_at": min(started, default=None),
             "finished_at": finished, "updated_at": max(updated, default=None)}
    return _State(status, dates)


def _dates(dates: dict[str, datetime | None], nanos: int = 0) -> dict[str, str]:
    return {name: _timestamp(value, nanos) for name, value in dates.items() if value is not None}


def _timestamp(value: datetime, nanos: int = 0) -> str:
    """RFC 3339 UTC as protobuf writes it: no fraction, or 3, 6 or 9 digits."""
    total = value.microsecond * 1000 + nanos
    base = value.strftime("%Y-%m-%dT%H:%M:%S")
    if total == 0:
        return base + "Z"
    if total % 1_000_000 == 0:
        return f"{base}.{total // 1_000_000:03d}Z"
    if total % 1000 == 0:
        return f"{base}.{total // 1000:06d}Z"
    return f"{base}.{total:09d}Z"


def _nanos(run: SimRun, path: tuple[str, ...]) -> int:
    """Sub-microsecond digits for cube times, as a runner's clock gives them (0..999 ns)."""
    return int(hashlib.sha256(f"{run.repo_id}/{run.slug}/{path}".encode()).hexdigest()[:6], 16) % 1000


def _strip(node: dict[str, Any]) -> dict[str, Any]:
    return _omit_empty({k: v for k, v in node.items() if k != "_state"})


def _omit_empty(value: Any) -> Any:
    """Drop zero values the way protobuf-JSON does: "", [], {}, None (recursively), 0 percent."""
    if isinstance(value, dict):
        cleaned = {k: _omit_empty(v) for k, v in value.items()}
        return {k: v for k, v in cleaned.items() if v not in ("", None, [], {}) and not (k == "percent" and v == 0)}
    if isinstance(value, list):
        return [_omit_empty(v) for v in value if v is not None]
    return value


def _uuid(path: str) -> str:
    return str(uuid.uuid5(_ID_NAMESPACE, path))
