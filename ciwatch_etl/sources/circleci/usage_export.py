"""CircleCI API v2 client: usage exports (the job-level, billing-grade credit CSVs).

An export is created for a window of at most 31 days, polled until `completed`, and each of its
pre-signed download URLs fetched. The `Circle-Token` goes to the API only: downloads use a
separate HTTP client with no credentials, since the files live on another host. Quirks handled
(see shared refs): `completed` with `download_urls: null` (keep polling), `failed` with
`error_reason` (re-created once), URLs that expire (poll again for fresh ones), gzip files cut
short (downloaded again), 429 with `Retry-After` and a body that may be plain text.
"""

from __future__ import annotations

import gzip
import logging
import time
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx

from ciwatch_etl.sources.http import (
    RETRYABLE_STATUS,
    ApiError,
    Deadline,
    RetryPolicy,
    api_client,
    describe_url,
    one_line,
    send,
)

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://circleci.com/api/v2"
MAX_WINDOW = timedelta(days=31)
# Status reads are limited per org (10 a minute in one copy of the spec, 10 an hour in another):
# polls slow down to one every 6 minutes, which stays under either.
MAX_POLL_INTERVAL_SECONDS = 360.0


class UsageExportError(RuntimeError):
    """A usage export that could not be produced or downloaded."""


class UsageExportFailed(UsageExportError):
    """CircleCI reported the export as `failed`."""


@dataclass(frozen=True)
class ExportWindow:
    start: datetime
    end: datetime  # inclusive, as the API defines it

    def label(self) -> str:
        return f"{self.start:%Y-%m-%dT%H:%M:%SZ}..{self.end:%Y-%m-%dT%H:%M:%SZ}"


@dataclass(frozen=True)
class DownloadedFile:
    path: Path
    name: str  # stable name: org, window and part number, never the URL's signature


def split_windows(start: datetime, end: datetime) -> list[ExportWindow]:
    """Cover [start, end) with windows of at most 31 days, each `end` inclusive (minus 1 ms)."""
    if end <= start:
        raise ValueError(f"empty export range: {start.isoformat()} .. {end.isoformat()}")
    windows, cursor = [], start
    while cursor < end:
        stop = min(cursor + MAX_WINDOW, end)
        windows.append(ExportWindow(cursor, stop - timedelta(milliseconds=1)))
        cursor = stop
    return windows


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class _UrlExpired(Exception):
    pass


class _Transient(Exception):
    """A download that may succeed if tried again: damaged gzip, 5xx, 429, network error."""


class CircleCIUsageClient:
    """Creates, polls and downloads CircleCI usage exports for one token."""

    def __init__(
        self,
        token: str,
        api_url: str = DEFAULT_API_URL,
        *,
        timeout_seconds: float = 30.0,
        policy: RetryPolicy | None = None,  # default: RetryPolicy() when the client is made
        poll_interval_seconds: float = 5.0,
        poll_timeout_seconds: float = 4 * 3600.0,
    ):
        if not token:
            raise ValueError("a CircleCI API token is required")
        self._token = token
        policy = policy or RetryPolicy()
        self._policy = policy
        self._deadline = Deadline(policy.deadline_seconds)  # one client, one pull
        self._poll_interval = poll_interval_seconds
        self._poll_timeout = poll_timeout_seconds
        self._api = api_client(api_url, {"Circle-Token": token}, timeout_seconds)
        # Downloads go to pre-signed URLs on another host, without the token: redirects are fine.
        self._files = httpx.Client(timeout=httpx.Timeout(timeout_seconds, connect=10.0), follow_redirects=True)

    def close(self) -> None:
        self._api.close()
        self._files.close()

    def __enter__(self) -> "CircleCIUsageClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _call(self, method: str, path: str, **kwargs) -> dict:
        response = send(self._api, method, path, policy=self._policy, deadline=self._deadline,
                        secrets=(self._token,), **kwargs)
        where = f"{method} {describe_url(response.request.url)}"
        try:
            body = response.json()
        except ValueError:
            kind = response.headers.get("content-type", "no content type").split(";")[0]
            raise ApiError(f"{where}: HTTP {response.status_code} but the body is not JSON ({kind}: "
                           f"{response.text.strip()[:80]!r})", response.status_code) from None
        if not isinstance(body, dict):
            raise ApiError(f"{where}: expected a JSON object, got {type(body).__name__}", response.status_code)
        return body

    def create_export(self, org_id: str, window: ExportWindow) -> dict:
        body = {"start": _iso(window.start), "end": _iso(window.end)}
        return self._call("POST", f"organizations/{org_id}/usage_export_job", json=body)

    def get_export(self, org_id: str, export_id: str) -> dict:
        return self._call("GET", f"organizations/{org_id}/usage_export_job/{export_id}")

    def wait_for_urls(self, org_id: str, export_id: str) -> list[str]:
        """Poll until the export is completed with download URLs; raise if it failed."""
        deadline = time.monotonic() + min(self._poll_timeout, self._deadline.remaining())
        interval = self._poll_interval
        while True:
            status = self.get_export(org_id, export_id)
            state = status.get("state")
            urls = status.get("download_urls")
            if state == "completed" and urls is not None:
                return list(urls)
            if state == "failed":
                reason = status.get("error_reason") or "no reason given"
                raise UsageExportFailed(f"usage export {export_id} of org {org_id} failed: {reason}")
            if time.monotonic() + interval > deadline:
                raise UsageExportError(
                    f"usage export {export_id} of org {org_id} not ready after "
                    f"{min(self._poll_timeout, self._deadline.seconds):.0f} s (last state: {state})"
                )
            log.info("usage export %s: %s, polling again in %.1f s", export_id, state, interval)
            time.sleep(interval)
            interval = min(interval * 1.5, MAX_POLL_INTERVAL_SECONDS)

    def export_window(self, org_id: str, window: ExportWindow, dest: Path) -> list[DownloadedFile]:
        """One window: create (re-created once if it fails), wait, download every file."""
        for attempt in (1, 2):
            export_id = self.create_export(org_id, window)["usage_export_job_id"]
            log.info("usage export %s created for org %s, %s", export_id, org_id, window.label())
            try:
                urls = self.wait_for_urls(org_id, export_id)
            except UsageExportFailed as exc:
                if attempt == 2:
                    raise
                log.warning("%s; creating it again", exc)
                continue
            return self._download_all(org_id, export_id, window, urls, dest)
        raise AssertionError("unreachable")

    def export_usage(self, org_id: str, start: datetime, end: datetime, dest: Path) -> list[DownloadedFile]:
        """Every file of the usage of [start, end), in windows of at most 31 days."""
        files: list[DownloadedFile] = []
        for window in split_windows(start, end):
            files.extend(self.export_window(org_id, window, dest))
        return files

    def _download_all(
        self, org_id: str, export_id: str, window: ExportWindow, urls: list[str], dest: Path
    ) -> list[DownloadedFile]:
        dest.mkdir(parents=True, exist_ok=True)
        files = []
        for index in range(len(urls)):
            name = f"usage-{org_id}-{window.start:%Y%m%dT%H%M%S}-{window.end:%Y%m%dT%H%M%S}-part{index:03d}.csv.gz"
            path = dest / name
            for attempt in range(1, self._policy.attempts + 1):
                try:
                    self._download(urls[index], path)
                    break
                except _UrlExpired:
                    log.info("download URL %d of export %s expired; asking for fresh URLs", index, export_id)
                    urls = self.wait_for_urls(org_id, export_id)
                except _Transient as exc:
                    log.warning("download %d of export %s: %s; fetching it again", index, export_id, exc)
                    time.sleep(min(self._policy.backoff_seconds * 2 ** (attempt - 1), self._policy.backoff_max_seconds))
                if attempt == self._policy.attempts:
                    raise UsageExportError(
                        f"file {index + 1} of {len(urls)} of usage export {export_id} (org {org_id}) "
                        f"could not be downloaded intact after {attempt} attempts"
                    )
            files.append(DownloadedFile(path=path, name=name))
        return files

    def _download(self, url: str, path: Path) -> None:
        tmp = path.with_suffix(".part")
        self._deadline.check(f"GET {describe_url(url)}")
        try:
            with self._files.stream("GET", url, timeout=self._deadline.timeout(self._files.timeout)) as response:
                if response.status_code == 403:
                    raise _UrlExpired()
                if response.status_code in RETRYABLE_STATUS:
                    raise _Transient(f"HTTP {response.status_code}")
                if not response.is_success:
                    response.read()
                    raise UsageExportError(
                        f"GET {describe_url(url)}: HTTP {response.status_code}: {one_line(response.text, 200)}"
                    )
                with tmp.open("wb") as out:
                    for chunk in response.iter_bytes():
                        out.write(chunk)
                        self._deadline.check(f"GET {describe_url(url)}")  # a trickling download ends
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            tmp.unlink(missing_ok=True)
            raise _Transient(type(exc).__name__) from None
        except ApiError:
            tmp.unlink(missing_ok=True)
            raise
        try:
            with gzip.open(tmp, "rb") as check:
                while check.read(1 << 20):
                    pass
        except (OSError, EOFError, zlib.error) as exc:
            tmp.unlink(missing_ok=True)
            raise _Transient(f"damaged gzip: {exc}") from None
        tmp.replace(path)
