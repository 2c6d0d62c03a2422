"""What the gocdnext client returns: the runs list as read, run details as the API gives them,
and what the lake already knows of a run. Plain records: shaping them into rows is `schemas`'.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

TERMINAL_STATUSES = frozenset({"success", "failed", "canceled", "skipped"})


def parse_time(value: str | None) -> datetime | None:
    """An RFC 3339 time as naive UTC, microseconds (gocdnext may send nanoseconds: truncated)."""
    if not value:
        return None
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:  # RFC 3339 always has an offset; take a bare time as UTC, not local
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class KnownRun:
    """What the lake already holds of a run: enough to tell whether its detail changed."""

    status: str
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, summary: Mapping[str, Any]) -> KnownRun:
        return cls(summary["status"], parse_time(summary.get("started_at")), parse_time(summary.get("finished_at")))

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL_STATUSES


@dataclass
class RunListing:
    """Runs of the list created at or after `cutoff`, newest first, each once."""

    runs: list[dict[str, Any]] = field(default_factory=list)
    cutoff: datetime | None = None
    pages: int = 0
    duplicates_dropped: int = 0
    shifts_seen: int = 0  # pages whose `total` differed from the page before
    head_rereads: int = 0


@dataclass
class RunPull:
    projects: list[dict[str, Any]]
    listing: RunListing
    details: list[dict[str, Any]]  # new, changed or unfinished runs, as `GET /runs/{id}?logs=0` returned them
    unchanged: int  # listed runs whose finished state the lake already holds
    vanished: list[str]  # runs the server no longer has (404 on their detail)
