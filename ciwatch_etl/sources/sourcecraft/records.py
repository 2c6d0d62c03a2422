"""SourceCraft CI/CD records: runs, workflows, tasks and cubes as parsed from the API's JSON.

Responses are protobuf-JSON: absent fields are omitted, ids may be empty ("CI/CD entities don't
have public IDs at this stage"), timestamps are RFC 3339 with up to nine fractional digits (kept
to the microsecond, as naive UTC). Values of the wrong type or format become None and are listed
in the record's `parse_errors`, so one odd field never costs a whole pull. Pure parsing: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})", re.IGNORECASE)
_Node = TypeVar("_Node", "Workflow", "Task", "Cube")


@dataclass(frozen=True)
class Dates:
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class Cube:
    slug: str | None
    id: str | None
    status: str | None
    dates: Dates
    needs: tuple[str, ...]
    artifact_count: int
    parse_errors: tuple[str, ...] = ()


@dataclass(frozen=True)
class Task:
    slug: str | None
    id: str | None
    description: str | None
    status: str | None
    dates: Dates
    needs: tuple[str, ...]
    progress_percent: float | None
    cubes: tuple[Cube, ...]
    parse_errors: tuple[str, ...] = ()


@dataclass(frozen=True)
class Workflow:
    slug: str | None
    id: str | None
    description: str | None
    status: str | None
    dates: Dates
    progress_percent: float | None
    tasks: tuple[Task, ...]
    parse_errors: tuple[str, ...] = ()


@dataclass(frozen=True)
class Run:
    """One CI run as read, with where and when it was read."""

    repo_id: str
    slug: str | None
    id: str | None
    status: str | None
    event_type: str | None
    dates: Dates
    error_messages: tuple[str, ...]
    pull_id: str | None
    pull_slug: str | None
    user_id: str | None
    user_slug: str | None
    workflows: tuple[Workflow, ...]
    source: str  # the request (and page) it came from, e.g. "GET /repos/id:<repo>/cicd/runs page 2"
    page: int | None  # list page it came from; None when read on its own (GetRun)
    extracted_at: datetime  # naive UTC
    parse_errors: tuple[str, ...] = ()



def parse_run(raw: Any, repo_id: str, source: str, page: int | None, extracted_at: datetime) -> Run:
    errors: list[str] = []
    r = _Fields(raw, "run", errors)
    pull, user = r.object("pull"), r.object("user")
    return Run(
        repo_id=repo_id,
        slug=r.text("slug"),
        id=r.text("id"),
        status=r.text("status"),
        event_type=r.text("event_type"),
        dates=r.dates(),
        error_messages=tuple(m for m in r.list("error_messages") if _is_text(m, "run.error_messages", errors)),
        pull_id=pull.text("id"),
        pull_slug=pull.text("slug"),
        user_id=user.text("id"),
        user_slug=user.text("slug"),
        workflows=tuple(_workflow(w, f"workflow {i + 1}") for i, w in enumerate(r.list("workflows"))),
        source=source,
        page=page,
        extracted_at=extracted_at,
        parse_errors=tuple(errors),
    )


def _workflow(raw: Any, where: str) -> Workflow:
    return _node(Workflow, raw, where, lambda w: {
        "progress_percent": w.object("progress").percent(),
        "tasks": tuple(_task(t, f"{where} task {i + 1}") for i, t in enumerate(w.list("tasks"))),
    })


def _task(raw: Any, where: str) -> Task:
    return _node(Task, raw, where, lambda t: {
        "needs": t.needs(),
        "progress_percent": t.object("progress").percent(),
        "cubes": tuple(_cube(c, f"{where} cube {i + 1}") for i, c in enumerate(t.list("cubes"))),
    })


def _cube(raw: Any, where: str) -> Cube:
    return _node(Cube, raw, where, lambda c: {
        "needs": c.needs(),
        "artifact_count": len(c.list("artifacts")),
    }, description=False)


def _node(cls: Callable[..., _Node], raw: Any, where: str, rest: Callable[[_Fields], dict[str, Any]], *,
          description: bool = True) -> _Node:
    """A workflow, task or cube: the fields they share (read first, in their order), then `rest`."""
    errors: list[str] = []
    f = _Fields(raw, where, errors)
    shared: dict[str, Any] = {"slug": f.text("slug"), "id": f.text("id")}
    if description:
        shared["description"] = f.text("description")
    shared |= {"status": f.text("status"), "dates": f.dates()}
    return cls(**shared, **rest(f), parse_errors=tuple(errors))


class _Fields:
    """Typed reads of one JSON object; a value of the wrong shape is None plus an error line."""

    def __init__(self, raw: Any, where: str, errors: list[str]):
        if raw is not None and not isinstance(raw, dict):
            errors.append(f"{where}: expected an object, got {type(raw).__name__}")
            raw = None
        self._present = raw is not None
        self._raw: dict[str, Any] = raw or {}
        self._where = where
        self._errors = errors

    def text(self, name: str) -> str | None:
        value = self._raw.get(name)
        if value is None or value == "":
            return None  # protobuf-JSON: an empty string is the same as no value
        return value if _is_text(value, f"{self._where}.{name}", self._errors) else None

    def object(self, name: str) -> _Fields:
        return _Fields(self._raw.get(name), f"{self._where}.{name}", self._errors)

    def list(self, name: str) -> list[Any]:
        value = self._raw.get(name)
        if value is None:
            return []
        if not isinstance(value, list):
            self._errors.append(f"{self._where}.{name}: expected a list, got {type(value).__name__}")
            return []
        return value

    def dates(self) -> Dates:
        dates = self.object("dates")
        return Dates(*(dates.timestamp(name) for name in ("created_at", "started_at", "finished_at", "updated_at")))

    def timestamp(self, name: str) -> datetime | None:
        value = self.text(name)
        if value is None:
            return None
        if _RFC3339.fullmatch(value):
            try:
                return datetime.fromisoformat(value.upper()).astimezone(UTC).replace(tzinfo=None)
            except ValueError:  # e.g. month 13
                pass
        self._errors.append(f"{self._where}.{name}: not an RFC 3339 date-time ({value[:40]!r})")
        return None

    def percent(self) -> float | None:
        if not self._present:
            return None
        value = self._raw.get("percent", 0.0)  # protobuf-JSON omits a zero percent
        if isinstance(value, bool) or not isinstance(value, int | float):
            self._errors.append(f"{self._where}.percent: expected a number, got {type(value).__name__}")
            return None
        return float(value)

    def needs(self) -> tuple[str, ...]:
        names = (_Fields(n, f"{self._where}.relations.needs", self._errors).text("name")
                 for n in self.object("relations").list("needs"))
        return tuple(n for n in names if n is not None)


def _is_text(value: Any, where: str, errors: list[str]) -> bool:
    if isinstance(value, str):
        return True
    errors.append(f"{where}: expected a string, got {type(value).__name__}")
    return False
