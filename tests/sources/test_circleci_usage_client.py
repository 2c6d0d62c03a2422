"""The usage export client against the simulator over real HTTP, with faults."""

from __future__ import annotations

import csv
import gzip
import logging
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from ciwatch_etl.simulator.circleci import Simulator
from ciwatch_etl.sources.circleci.usage_export import (
    CircleCIUsageClient,
    UsageExportFailed,
    split_windows,
)
from ciwatch_etl.sources.http import ApiError, RetryPolicy

FAST = RetryPolicy(attempts=6, backoff_seconds=0.05, backoff_max_seconds=0.2, retry_after_cap_seconds=1.0)


@pytest.fixture(scope="module")
def sim():
    with Simulator(days=30) as simulator:
        yield simulator


@pytest.fixture(autouse=True)
def _clean_faults(sim):
    sim.faults.clear()
    yield
    sim.faults.clear()


def _client(sim, **kwargs) -> CircleCIUsageClient:
    return CircleCIUsageClient(sim.token, sim.circleci_api_url, policy=FAST, poll_interval_seconds=0.01, **kwargs)


def _window(sim, days: int = 3) -> tuple[datetime, datetime]:
    end = datetime.combine(sim.end_date, datetime.min.time(), tzinfo=timezone.utc)
    return end - timedelta(days=days - 1), end + timedelta(days=1)


def _job_ids(files) -> list[str]:
    ids = []
    for f in files:
        with gzip.open(f.path, "rt", newline="") as handle:
            ids += [row["JOB_ID"] for row in csv.DictReader(handle)]
    return ids


def _expected_ids(sim, org: str, start: datetime, end: datetime) -> list[str]:
    ids = []
    for window in split_windows(start, end):
        ids += [row["JOB_ID"] for row in sim.expected_usage_rows(org, window.start, window.end)]
    return ids


@pytest.mark.parametrize(
    ("start", "end", "count"),
    [
        (datetime(2026, 1, 1), datetime(2026, 1, 2), 1),
        (datetime(2026, 1, 1), datetime(2026, 2, 1), 1),
        (datetime(2026, 1, 1), datetime(2026, 2, 2), 2),
        (datetime(2025, 11, 1), datetime(2026, 11, 1), 12),
    ],
)
def test_windows_cover_the_range_in_at_most_31_days(start, end, count):
    windows = split_windows(start, end)
    assert len(windows) == count
    assert windows[0].start == start
    assert windows[-1].end == end - timedelta(milliseconds=1)
    for before, after in zip(windows, windows[1:]):
        assert after.start == before.end + timedelta(milliseconds=1)
    assert all(w.end - w.start < timedelta(days=31) for w in windows)


def test_export_downloads_every_file_of_the_window(sim, tmp_path: Path):
    start, end = _window(sim)
    org = sim.org_ids[0]
    with _client(sim) as client:
        files = client.export_usage(org, start, end, tmp_path)
    assert len(files) >= 2, "the simulator splits exports into several files"
    assert sorted(_job_ids(files)) == sorted(_expected_ids(sim, org, start, end))


def test_every_fault_is_survived_and_each_job_arrives_once(sim, tmp_path: Path, caplog):
    caplog.set_level(logging.DEBUG)
    start, end = _window(sim)
    org = sim.org_ids[1]
    # Armed faults queue up: the first POST meets 429, 429, 502, 502, then a slow answer.
    sim.faults.rate_limit(times=2, retry_after=1, plain_text=True)
    sim.faults.server_error(times=2, status=502)
    sim.faults.slow(times=1, seconds=0.3)
    sim.faults.null_download_urls(times=2)
    sim.faults.export_failed(times=1, reason="query timeout")
    sim.faults.truncated_gzip(times=1)
    sim.faults.expired_url(times=1)
    with _client(sim) as client:
        files = client.export_usage(org, start, end, tmp_path)
    ids = _job_ids(files)
    assert len(ids) == len(set(ids))
    assert sorted(ids) == sorted(_expected_ids(sim, org, start, end))
    assert sim.token not in caplog.text


def test_an_export_that_fails_twice_is_a_clear_error(sim, tmp_path: Path):
    sim.faults.export_failed(times=2, reason="query timeout")
    start, end = _window(sim, 1)
    with _client(sim) as client, pytest.raises(UsageExportFailed, match="query timeout"):
        client.export_usage(sim.org_ids[0], start, end, tmp_path)


def test_persistent_server_errors_give_up_after_bounded_attempts(sim, tmp_path: Path):
    sim.faults.server_error(times=50, status=500)
    start, end = _window(sim, 1)
    with _client(sim) as client, pytest.raises(ApiError) as error:
        client.export_usage(sim.org_ids[0], start, end, tmp_path)
    message = str(error.value)
    assert "HTTP 500" in message and "usage_export_job" in message and "6 attempts" in message
    assert sim.token not in message


def test_a_bad_token_fails_at_once_without_echoing_it(sim, tmp_path: Path):
    start, end = _window(sim, 1)
    before = len(sim.requests)
    with CircleCIUsageClient("wrong-token-123", sim.circleci_api_url, policy=FAST) as client:
        with pytest.raises(ApiError) as error:
            client.export_usage(sim.org_ids[0], start, end, tmp_path)
    assert error.value.status == 401
    assert "wrong-token-123" not in str(error.value)
    assert len(sim.requests) == before + 1, "a 401 is not retried"


def test_the_token_goes_to_the_api_only(sim, tmp_path: Path):
    sim.requests.clear()
    start, end = _window(sim, 2)
    with _client(sim) as client:
        client.export_usage(sim.org_ids[0], start, end, tmp_path)
    downloads = [r for r in sim.requests if r.origin == "download"]
    api_calls = [r for r in sim.requests if r.origin == "api"]
    assert downloads and api_calls
    assert all({k.lower(): v for k, v in r.headers.items()}.get("circle-token") == sim.token for r in api_calls)
    for request in downloads:
        assert "circle-token" not in {k.lower() for k in request.headers}
        assert sim.token not in " ".join(request.headers.values()) + request.path + request.query
