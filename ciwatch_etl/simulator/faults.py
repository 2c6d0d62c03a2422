"""Switchable faults: a test arms one, the next N matching requests suffer it, then it is gone.

API faults (rate limit, server error, slow, not found, null download URLs, failed export) act on
the API origin; download faults (truncated gzip, expired URL) act on the download origin. Arming a
fault again replaces what was left of the previous one.

Faults armed together queue rather than overlap: every armed fault is served to N requests of
its own. With `rate_limit(times=2)` and `server_error(times=2)` armed, the next four API requests
fail (two 429s, then two 500s), so a test sees each fault it armed. `slow` only delays, so it
rides along with whatever else the request gets.

API faults can be aimed: with `path_contains="gh/acme-robotics/api-gateway"` only requests whose
(URL-decoded) path contains that text suffer it and use it up, so one project can fail while the
others answer. An aimed fault and an unaimed one of the same kind are armed side by side; arming
again with the same aim replaces what was left of it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TypeVar


@dataclass(frozen=True)
class RateLimit:
    retry_after: int
    plain_text: bool  # real 429s sometimes come as a bare text body, not JSON


@dataclass(frozen=True)
class ServerError:
    status: int


@dataclass(frozen=True)
class Slow:
    seconds: float


@dataclass(frozen=True)
class NotFound:
    """404 `{"message": "Project not found"}`: a project renamed, deleted or out of the token's reach."""


@dataclass(frozen=True)
class NullDownloadUrls:
    """State `completed` but `download_urls` still null: the client must keep polling."""


@dataclass(frozen=True)
class ExportFailed:
    reason: str


@dataclass(frozen=True)
class TruncatedGzip:
    """The download answers 200 with a body cut in the middle of the gzip stream."""


@dataclass(frozen=True)
class ExpiredUrl:
    """The download origin refuses the pre-signed URL as expired (403)."""


F = TypeVar("F")


class Faults:
    """Thread-safe; each armed fault counts down per matching request and then switches off."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # (kind, aim) -> (fault, requests left); aim None hits every request of its origin.
        self._armed: dict[tuple[type, str | None], tuple[object, int]] = {}

    def rate_limit(self, times: int = 1, retry_after: int = 1, plain_text: bool = True,
                   path_contains: str | None = None) -> None:
        self._arm(RateLimit(retry_after, plain_text), times, path_contains)

    def server_error(self, times: int = 1, status: int = 500, path_contains: str | None = None) -> None:
        self._arm(ServerError(status), times, path_contains)

    def slow(self, times: int = 1, seconds: float = 2.0, path_contains: str | None = None) -> None:
        self._arm(Slow(seconds), times, path_contains)

    def not_found(self, times: int = 1, path_contains: str | None = None) -> None:
        self._arm(NotFound(), times, path_contains)

    def null_download_urls(self, times: int = 1) -> None:
        self._arm(NullDownloadUrls(), times)

    def export_failed(self, times: int = 1, reason: str = "query timeout") -> None:
        self._arm(ExportFailed(reason), times)

    def truncated_gzip(self, times: int = 1) -> None:
        self._arm(TruncatedGzip(), times)

    def expired_url(self, times: int = 1) -> None:
        self._arm(ExpiredUrl(), times)

    def clear(self) -> None:
        with self._lock:
            self._armed.clear()

    def pending(self) -> dict[str, int]:
        """Armed faults and how many requests each will still hit, by fault class name, with the
        aim in brackets for aimed ones (e.g. `ServerError[gh/acme-robotics/api-gateway]`)."""
        with self._lock:
            return {kind.__name__ if aim is None else f"{kind.__name__}[{aim}]": left
                    for (kind, aim), (_, left) in self._armed.items()}

    def take(self, kind: type[F], path: str = "") -> F | None:
        """Use up one occurrence of `kind` armed for this request path (aimed faults first, as
        they are the more specific); the caller then applies the returned fault."""
        with self._lock:
            aims = [aim for k, aim in self._armed if k is kind and (aim is None or aim in path)]
            if not aims:
                return None
            slot = (kind, max(aims, key=lambda aim: aim is not None))
            fault, left = self._armed[slot]
            if left <= 1:
                del self._armed[slot]
            else:
                self._armed[slot] = (fault, left - 1)
            return fault  # type: ignore[return-value]

    def _arm(self, fault: object, times: int, path_contains: str | None = None) -> None:
        if times < 1:
            raise ValueError(f"times must be at least 1, got {times}")
        if path_contains == "":
            raise ValueError("path_contains must not be empty: leave it None to hit every request")
        with self._lock:
            self._armed[(type(fault), path_contains)] = (fault, times)
