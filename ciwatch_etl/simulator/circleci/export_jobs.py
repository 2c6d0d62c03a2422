"""Usage export jobs: their state machine and the files a completed job serves.

A job moves one step per status poll (created -> processing -> completed, or failed), which is
how the real API behaves for small exports and lets tests see every state without sleeping.
Files are rendered once, when the job completes, and kept for the download origin.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ciwatch_etl.simulator.circleci.usage_csv import render_export
from ciwatch_etl.simulator.circleci.usage_rows import usage_rows
from ciwatch_etl.simulator.circleci.world import World


@dataclass
class ExportJob:
    id: str
    org_id: str
    org_ids: tuple[str, ...]  # the org itself, then the shared orgs whose rows are included
    start: datetime
    end: datetime
    state: str = "created"  # created | processing | completed | failed
    error_reason: str | None = None
    files: tuple[bytes, ...] = ()


class ExportJobs:
    """All export jobs of one simulator, thread-safe."""

    def __init__(self, world: World) -> None:
        self._world = world
        self._lock = threading.Lock()
        self._jobs: dict[str, ExportJob] = {}

    def create(self, org_ids: tuple[str, ...], start: datetime, end: datetime) -> ExportJob:
        job = ExportJob(id=str(uuid.uuid4()), org_id=org_ids[0], org_ids=org_ids, start=start, end=end)
        with self._lock:
            self._jobs[job.id] = job
        return job

    def get(self, org_id: str, job_id: str) -> ExportJob | None:
        with self._lock:
            job = self._jobs.get(job_id)
        return job if job is not None and job.org_id == org_id else None

    def poll(self, job: ExportJob, failure: Callable[[], str | None]) -> None:
        """Advance one step. `failure` is asked only when the job would complete: a reason fails it."""
        with self._lock:
            if job.state == "created":
                job.state = "processing"
            elif job.state == "processing":
                reason = failure()
                if reason is not None:
                    job.state, job.error_reason = "failed", reason
                else:
                    job.files = tuple(render_export(usage_rows(self._world, job.org_ids, job.start, job.end)))
                    job.state = "completed"

    def file(self, org_id: str, job_id: str, index: int) -> bytes | None:
        job = self.get(org_id, job_id)
        if job is None or job.state != "completed" or not 0 <= index < len(job.files):
            return None
        return job.files[index]
