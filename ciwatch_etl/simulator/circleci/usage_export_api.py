"""The usage export endpoints: create an export job, poll its status, hand out download URLs.

Restrictions follow the spec: body fields start/end (+ shared_org_ids) only, both RFC 3339
date-times, end at most 31 days after start and start at most one year ago (where the Usage tag's
text is looser, 32 days and 13 months, the request body's own descriptions win: a client that
passes here passes on either reading), 10 creation requests per hour and (configurably) 10 status
reads per minute per org. A completed job's URLs are minted afresh, with a new date, on every poll.
"""

from __future__ import annotations

import calendar
import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from ciwatch_etl.simulator.circleci.circleci_api import Route, message, rate_limited
from ciwatch_etl.simulator.circleci.export_jobs import ExportJob, ExportJobs
from ciwatch_etl.simulator.faults import ExportFailed, Faults, NullDownloadUrls
from ciwatch_etl.simulator.http_base import Request, Response
from ciwatch_etl.simulator.circleci.presign import UrlSigner
from ciwatch_etl.simulator.rate_limit import SlidingWindowLimit
from ciwatch_etl.simulator.circleci.world import World

MAX_WINDOW = timedelta(days=31)
HISTORY_MONTHS = 12  # "no more than one year ago"
BODY_FIELDS = ("start", "end", "shared_org_ids")
# RFC 3339's date-time (the spec's `format: date-time`); "T" and "Z" may be lower case.
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})", re.IGNORECASE)


class _Invalid(Exception):
    """A request the API answers with 400 and this message."""


def download_path(org_id: str, job_id: str, index: int) -> str:
    return f"/usage-exports/{org_id}/{job_id}/part-{index:04d}.csv.gz"


class UsageExportApi:
    def __init__(self, *, world: World, jobs: ExportJobs, faults: Faults, signer: UrlSigner,
                 post_limit: SlidingWindowLimit, get_limit: SlidingWindowLimit) -> None:
        self._world = world
        self._jobs = jobs
        self._faults = faults
        self._signer = signer
        self._post_limit = post_limit
        self._get_limit = get_limit

    def routes(self) -> list[Route]:
        return [
            Route("POST", re.compile(r"/organizations/(?P<org_id>[^/]+)/usage_export_job"), self.create),
            Route("GET", re.compile(r"/organizations/(?P<org_id>[^/]+)/usage_export_job/(?P<job_id>[^/]+)"),
                  self.status),
        ]

    def create(self, request: Request, match: re.Match[str]) -> Response:
        org_id = match["org_id"]
        if self._world.org(org_id) is None:
            return message(404, "Organization does not exist.")
        wait = self._post_limit.retry_after(org_id)
        if wait is not None:
            return rate_limited(wait)
        # The limit is on queries, so a request refused as invalid counts too.
        self._post_limit.record(org_id)
        try:
            start, end, shared = self._parse_body(request.body, datetime.now(UTC))
        except _Invalid as invalid:
            return message(400, str(invalid))
        # Shared orgs this world does not know contribute no rows, like orgs without usage.
        org_ids = tuple(dict.fromkeys([org_id, *(s for s in shared if self._world.org(s) is not None)]))
        job = self._jobs.create(org_ids, start, end)
        # The spec marks download_urls required and an array, but real responses send null here.
        return Response.json(201, {"usage_export_job_id": job.id, "state": job.state,
                                   "start": _iso(start), "end": _iso(end), "download_urls": None})

    def status(self, request: Request, match: re.Match[str]) -> Response:
        org_id = match["org_id"]
        if self._world.org(org_id) is None:
            return message(404, "Organization does not exist.")
        wait = self._get_limit.retry_after(org_id)
        if wait is not None:
            return rate_limited(wait)
        self._get_limit.record(org_id)
        job = self._jobs.get(org_id, match["job_id"])
        if job is None:
            return message(404, "Usage export job not found.")
        self._jobs.poll(job, failure=self._failure_reason)
        body: dict[str, Any] = {"usage_export_job_id": job.id, "state": job.state,
                                "download_urls": self._download_urls(job)}
        if job.error_reason is not None:
            body["error_reason"] = job.error_reason
        return Response.json(200, body)

    def _failure_reason(self) -> str | None:
        failed = self._faults.take(ExportFailed)
        return None if failed is None else failed.reason

    def _download_urls(self, job: ExportJob) -> list[str] | None:
        if job.state != "completed" or self._faults.take(NullDownloadUrls) is not None:
            return None
        now = datetime.now(UTC)
        return [self._signer.sign(download_path(job.org_id, job.id, i), now) for i in range(len(job.files))]

    def _parse_body(self, raw: bytes, now: datetime) -> tuple[datetime, datetime, list[str]]:
        try:
            body = json.loads(raw or b"null")
        except (ValueError, UnicodeDecodeError):
            raise _Invalid("Unexpected request body provided.") from None
        if not isinstance(body, dict):
            raise _Invalid("Unexpected request body provided.")
        for name in body:
            if name not in BODY_FIELDS:
                raise _Invalid(f"Unexpected field: {name}")
        start, end = _parse_time(body, "start"), _parse_time(body, "end")
        if end < start:
            raise _Invalid("end must not be before start.")
        if end - start > MAX_WINDOW:
            raise _Invalid(f"end must be no more than {MAX_WINDOW.days} days after start.")
        if start < _months_before(now, HISTORY_MONTHS):
            raise _Invalid("start must be no more than one year ago.")
        shared = body.get("shared_org_ids", [])
        if not isinstance(shared, list) or not all(isinstance(s, str) and _is_uuid(s) for s in shared):
            raise _Invalid("shared_org_ids must be a list of organization IDs (UUIDs).")
        return start, end, shared


def _parse_time(body: dict[str, Any], name: str) -> datetime:
    value = body.get(name)
    if value is None:
        raise _Invalid(f"{name} is required.")
    hint = f"{name} must be an RFC 3339 date-time with a time zone, e.g. 2025-07-01T00:00:00Z"
    # fromisoformat alone would also take bare dates, week dates, "+0000" and missing seconds.
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        raise _Invalid(f"{hint}; got {value!r}.")
    try:
        parsed = datetime.fromisoformat(value.upper())
    except ValueError:  # e.g. month 13
        raise _Invalid(f"{hint}; got {value!r}.") from None
    return parsed.astimezone(UTC)


def _months_before(now: datetime, months: int) -> datetime:
    years, month_index = divmod(now.month - 1 - months, 12)
    year, month = now.year + years, month_index + 1
    return now.replace(year=year, month=month, day=min(now.day, calendar.monthrange(year, month)[1]))


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _iso(value: datetime) -> str:
    millis = f".{value.microsecond // 1000:03d}" if value.microsecond else ""
    return f"{value:%Y-%m-%dT%H:%M:%S}{millis}Z"
