"""Retrying HTTP calls shared by every source client.

Retries 429 (honouring `Retry-After`, capped), 5xx and transport errors/timeouts with
exponential backoff, then fails with an `ApiError` that names the call but never a secret:
URLs are reported without their query string (pre-signed URLs carry signatures there) and
any known secret is scrubbed from response text.

Timeouts of httpx are per read: a server that trickles a byte every few seconds, or answers
every retry slowly, would hold a pull for ever. So a client gives each pull a `Deadline`
(`RetryPolicy.deadline_seconds`): every request's timeouts shrink to the time left, a body is
read in chunks with the clock checked between them, retries never wait past it, and once it
has passed the call fails with `DeadlineExceeded` naming the request. Listings stop after
`RetryPolicy.max_pages` pages (see `pagination`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
)

from ciwatch_etl.environment import max_pages, pull_deadline_seconds

log = logging.getLogger(__name__)

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """How a client calls: retries, and the bounds of one pull (defaults from the environment,
    `settings.pull_deadline_seconds` and `settings.max_pages`)."""

    attempts: int = 6
    backoff_seconds: float = 0.5
    backoff_max_seconds: float = 30.0
    retry_after_cap_seconds: float = 120.0
    deadline_seconds: float = field(default_factory=pull_deadline_seconds)
    max_pages: int = field(default_factory=max_pages)


class ApiError(RuntimeError):
    """A call that failed for good: what was called, the status, and what the server said."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class DeadlineExceeded(ApiError):
    """A pull ran past its deadline; the message names the request it was making."""


class Deadline:
    """The end of one pull, `seconds` after it was made (a client makes one when it is created)."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self._end = time.monotonic() + seconds

    def remaining(self) -> float:
        return self._end - time.monotonic()

    def check(self, where: str) -> None:
        """Raise `DeadlineExceeded` naming `where` once the deadline has passed."""
        if self.remaining() <= 0:
            raise DeadlineExceeded(f"{where}: stopped at the pull's deadline of {self.seconds:g} s "
                                   "(CIWATCH_PULL_DEADLINE_SECONDS)")

    def timeout(self, timeout: httpx.Timeout) -> httpx.Timeout:
        """`timeout` with every part cut to the time left (at least a millisecond)."""
        left = max(self.remaining(), 0.001)

        def cut(value: float | None) -> float:
            return left if value is None else min(value, left)

        return httpx.Timeout(connect=cut(timeout.connect), read=cut(timeout.read), write=cut(timeout.write),
                             pool=cut(timeout.pool))


def read_body(response: httpx.Response, deadline: Deadline | None, where: str) -> httpx.Response:
    """A streamed response read whole, `deadline` checked between chunks (a trickle ends)."""
    if deadline is None or response.is_stream_consumed:  # (a test transport's body is read already)
        response.read()
        return response
    raw = bytearray()
    for chunk in response.iter_raw():
        raw += chunk
        deadline.check(where)
    whole = httpx.Response(response.status_code, headers=response.headers, content=bytes(raw),
                           request=response.request, extensions=response.extensions)
    whole.read()  # decoded by its Content-Encoding, as `read()` would have
    return whole


def api_client(base_url: str, auth: dict[str, str], timeout_seconds: float,
               transport: httpx.BaseTransport | None = None) -> httpx.Client:
    """One provider's API over httpx: JSON, explicit timeouts, `auth` (the token's header) on every
    request, and no redirects: a redirect must not carry the token to another host."""
    return httpx.Client(
        base_url=base_url.rstrip("/") + "/",
        headers={**auth, "Accept": "application/json"},
        timeout=httpx.Timeout(timeout_seconds, connect=10.0),
        follow_redirects=False,
        transport=transport,
    )


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


def one_line(text: str, limit: int = 300) -> str:
    """`text` on one line (runs of white space, line breaks included, as one space), cut to `limit`."""
    return " ".join(text.split())[:limit]


def response_message(response: httpx.Response, secrets: Iterable[str] = ()) -> str:
    """The server's own words on one line: `message` of a JSON body, else the start of a text body."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        text = one_line(body["message"])
    else:
        text = one_line(response.text)
    return scrub(text, secrets)


def _wait(policy: RetryPolicy, deadline: Deadline | None) -> Callable[[RetryCallState], float]:
    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Retryable) and exc.retry_after is not None:
            seconds = min(exc.retry_after, policy.retry_after_cap_seconds)
        else:
            seconds = min(policy.backoff_seconds * 2 ** (state.attempt_number - 1), policy.backoff_max_seconds)
        # Never sleep past the deadline: the next attempt then fails at once, naming the call.
        return seconds if deadline is None else max(0.0, min(seconds, deadline.remaining()))

    return wait


def send(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    policy: RetryPolicy,
    secrets: Iterable[str] = (),
    ok: Callable[[httpx.Response], bool] = lambda r: r.is_success,
    deadline: Deadline | None = None,
    **kwargs,
) -> httpx.Response:
    """Send a request, retrying what is worth retrying; return the first acceptable response.

    A non-retryable error status raises ApiError at once; so does running out of attempts, and
    (`DeadlineExceeded`) reaching `deadline`.
    """
    secrets = tuple(secrets)
    where = f"{method} {describe_url(client.base_url.join(url) if client.base_url else url)}"

    last: list[str] = []  # what the previous attempt got, said when the deadline stops a retry

    def attempt() -> httpx.Response:
        if deadline is not None:
            try:
                deadline.check(where)
            except DeadlineExceeded as exc:
                raise DeadlineExceeded(f"{exc}{'; last answer: ' + last[-1] if last else ''}") from None
            kwargs["timeout"] = deadline.timeout(client.timeout)
        request = client.build_request(method, url, **kwargs)
        try:
            streamed = client.send(request, stream=True)
            try:
                response = read_body(streamed, deadline, where)
            finally:
                streamed.close()
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            last.append(type(exc).__name__)
            raise _Retryable(f"{where}: {type(exc).__name__}") from None
        if ok(response):
            return response
        if response.is_redirect:  # never followed: the token must not go to another host
            location = response.headers.get("location", "")
            target = describe_url(response.request.url.join(location)) if location else "nowhere"
            answer = f"HTTP {response.status_code}: a redirect to {target}, not followed"
        else:
            answer = f"HTTP {response.status_code}: {response_message(response, secrets)}"
        message = f"{where}: {answer}"
        if response.status_code in RETRYABLE_STATUS:
            last.append(answer)
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            raise _Retryable(message, retry_after, response.status_code)
        raise ApiError(message, response.status_code)

    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        log.warning("retrying after attempt %d: %s", state.attempt_number, exc)

    retrying = Retrying(
        stop=stop_after_attempt(policy.attempts),
        wait=_wait(policy, deadline),
        retry=retry_if_exception_type(_Retryable),
        before_sleep=before_sleep,
        reraise=True,
    )
    try:
        return retrying(attempt)
    except _Retryable as exc:
        if deadline is not None and deadline.remaining() <= 0:
            raise DeadlineExceeded(f"{exc} (stopped at the pull's deadline of {deadline.seconds:g} s, "
                                   "CIWATCH_PULL_DEADLINE_SECONDS)", exc.status) from None
        raise ApiError(f"{exc} (gave up after {policy.attempts} attempts)", exc.status) from None
