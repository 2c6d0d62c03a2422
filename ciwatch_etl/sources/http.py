"""Retrying HTTP calls shared by every source client.

Retries 429 (honouring `Retry-After`, capped), 5xx and transport errors/timeouts with
exponential backoff, then fails with an `ApiError` that names the call but never a secret:
URLs are reported without their query string (pre-signed URLs carry signatures there) and
any known secret is scrubbed from response text.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
)

log = logging.getLogger(__name__)

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6
    backoff_seconds: float = 0.5
    backoff_max_seconds: float = 30.0
    retry_after_cap_seconds: float = 120.0


class ApiError(RuntimeError):
    """A call that failed for good: what was called, the status, and what the server said."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class _Retryable(Exception):
    def __init__(self, message: str, retry_after: float | None = None, status: int | None = None):
        super().__init__(message)
        self.retry_after = retry_after
        self.status = status


def describe_url(url: httpx.URL | str) -> str:
    """scheme://host/path, without the query string."""
    u = httpx.URL(str(url))
    return f"{u.scheme}://{u.host}{':' + str(u.port) if u.port else ''}{u.path}"


def scrub(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a `Retry-After` header (delta-seconds form); None if absent or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value.strip()))
    except ValueError:
        return None


def response_message(response: httpx.Response, secrets: Iterable[str] = ()) -> str:
    """The server's own words: `message` of a JSON body, else the start of a text body."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        text = body["message"]
    else:
        text = response.text.strip()[:300]
    return scrub(text, secrets)


def _wait(policy: RetryPolicy) -> Callable[[RetryCallState], float]:
    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Retryable) and exc.retry_after is not None:
            return min(exc.retry_after, policy.retry_after_cap_seconds)
        return min(policy.backoff_seconds * 2 ** (state.attempt_number - 1), policy.backoff_max_seconds)

    return wait


def send(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    policy: RetryPolicy,
    secrets: Iterable[str] = (),
    ok: Callable[[httpx.Response], bool] = lambda r: r.is_success,
    **kwargs,
) -> httpx.Response:
    """Send a request, retrying what is worth retrying; return the first acceptable response.

    A non-retryable error status raises ApiError at once; so does running out of attempts.
    """
    secrets = tuple(secrets)
    where = f"{method} {describe_url(client.base_url.join(url) if client.base_url else url)}"

    def attempt() -> httpx.Response:
        try:
            response = client.request(method, url, **kwargs)
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            raise _Retryable(f"{where}: {type(exc).__name__}") from None
        if ok(response):
            return response
        message = f"{where}: HTTP {response.status_code}: {response_message(response, secrets)}"
        if response.status_code in RETRYABLE_STATUS:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            raise _Retryable(message, retry_after, response.status_code)
        raise ApiError(message, response.status_code)

    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        log.warning("retrying after attempt %d: %s", state.attempt_number, exc)

    retrying = Retrying(
        stop=stop_after_attempt(policy.attempts),
        wait=_wait(policy),
        retry=retry_if_exception_type(_Retryable),
        before_sleep=before_sleep,
        reraise=True,
    )
    try:
        return retrying(attempt)
    except _Retryable as exc:
        raise ApiError(f"{exc} (gave up after {policy.attempts} attempts)", exc.status) from None
