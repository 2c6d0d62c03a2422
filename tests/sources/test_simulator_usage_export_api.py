"""The CircleCI simulator's usage-export API, over real HTTP: request validation (window length and
age, RFC 3339 date-times), authentication, and the per-hour and per-minute rate limits."""


from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

# Helpers and fixtures; pytest finds the fixtures by name (hence F401 here, F811 at the top).
from simulator_helpers import (
    END_DATE,
    create,
    recent_window,
    status,
)

from ciwatch_etl.simulator.circleci import SIMULATOR_TOKEN, Simulator

pytestmark = pytest.mark.usefixtures("no_leftover_faults")

# -- validation, auth, rate limits ------------------------------------------------------------


def test_invalid_requests_get_400_or_404_with_a_message(sim, api):
    org_id = sim.org_ids[0]
    start, end = recent_window(sim, 5)
    path = f"/organizations/{org_id}/usage_export_job"
    cases = [
        ({"start": start.isoformat(), "end": end.isoformat(), "project_id": "x"}, "Unexpected field: project_id"),
        ({"start": (end - timedelta(days=40)).isoformat(), "end": end.isoformat()}, "31 days"),
        ({"start": end.isoformat(), "end": start.isoformat()}, "before start"),
        ({"end": end.isoformat()}, "start is required"),
        ({"start": "yesterday", "end": end.isoformat()}, "RFC 3339"),
        ({"start": "2025-07-01", "end": end.isoformat()}, "RFC 3339"),
        ({"start": start.replace(tzinfo=None).isoformat(), "end": end.isoformat()}, "time zone"),
        ({"start": start.isoformat(), "end": end.isoformat(), "shared_org_ids": ["nope"]}, "shared_org_ids"),
    ]
    for body, expected in cases:
        response = api.post(path, json=body)
        assert response.status_code == 400, body
        assert expected in response.json()["message"], (body, response.json())
    too_old = datetime.now(UTC) - timedelta(days=430)
    response = api.post(path, json={"start": too_old.isoformat(), "end": (too_old + timedelta(days=1)).isoformat()})
    assert response.status_code == 400 and "one year" in response.json()["message"]
    assert api.post(path, content=b"not json").status_code == 400

    unknown_org = "00000000-0000-4000-8000-000000000000"
    response = create(api, unknown_org, start, end)
    assert response.status_code == 404 and response.json() == {"message": "Organization does not exist."}
    assert status(api, org_id, unknown_org).status_code == 404
    assert api.get("/no/such/endpoint").status_code == 404


def test_window_ends_at_most_31_days_after_start(sim, api):
    # The body schema says "no more than 31 days after start"; the tag text's "32 days" counts
    # the calendar days such a window touches, so 31 days is the limit to enforce.
    org_id = sim.org_ids[0]
    _, end = recent_window(sim, 0)
    start = end - timedelta(days=31)
    assert create(api, org_id, start, end).status_code == 201
    too_long = create(api, org_id, start - timedelta(milliseconds=1), end)
    assert too_long.status_code == 400 and "31 days" in too_long.json()["message"]


def test_start_is_at_most_one_year_ago(sim, api):
    # The body schema says "no more than one year ago"; the tag text's 13 months is the looser
    # of the two, so a client that passes here passes on either reading.
    org_id = sim.org_ids[0]
    now = datetime.now(UTC).replace(microsecond=0)
    year_ago = now.replace(year=now.year - 1) if (now.month, now.day) != (2, 29) else now - timedelta(days=366)
    inside = year_ago + timedelta(hours=1)
    assert create(api, org_id, inside, inside + timedelta(days=1)).status_code == 201
    outside = year_ago - timedelta(days=3)
    refused = create(api, org_id, outside, outside + timedelta(days=1))
    assert refused.status_code == 400 and "one year" in refused.json()["message"]


def test_start_and_end_must_be_rfc3339_date_times(sim, api):
    """`format: date-time` is RFC 3339's: Python's fromisoformat accepts much that it is not."""
    org_id = sim.org_ids[0]
    _, end = recent_window(sim, 0)
    day = (end - timedelta(days=2)).date().isoformat()
    path = f"/organizations/{org_id}/usage_export_job"
    accepted = [f"{day}T00:00:00Z", f"{day}T00:00:00.250Z", f"{day}T02:00:00+02:00", f"{day}t00:00:00z"]
    for value in accepted:
        response = api.post(path, json={"start": value, "end": end.isoformat()})
        assert response.status_code == 201, (value, response.json())
    compact = day.replace("-", "")
    refused = [f"{day}T00:00Z", f"{compact}T000000Z", f"{day} 00:00:00Z", f"{day}T00:00:00+0000",
               f"{day}T00:00:00,5Z", "2026-W44-7T00:00:00Z", day]
    for value in refused:
        response = api.post(path, json={"start": value, "end": end.isoformat()})
        assert response.status_code == 400, value
        assert "RFC 3339" in response.json()["message"], (value, response.json())


def test_every_creation_request_counts_toward_the_hourly_limit():
    # "can only be queried up to 10 times per hour": a refused request is a query too.
    with Simulator(end_date=END_DATE, days=30, post_limit_per_hour=2) as limited, httpx.Client(
        base_url=limited.circleci_api_url, headers={"Circle-Token": limited.token}
    ) as client:
        org_id = limited.org_ids[0]
        end = datetime.now(UTC).replace(microsecond=0)
        start = end - timedelta(days=1)
        assert create(client, org_id, end, start).status_code == 400
        assert create(client, org_id, start, end).status_code == 201
        assert create(client, org_id, start, end).status_code == 429


def test_authentication(sim, api):
    org_id = sim.org_ids[0]
    start, end = recent_window(sim, 1)
    url = f"{sim.circleci_api_url}/organizations/{org_id}/usage_export_job"
    body = {"start": start.isoformat(), "end": end.isoformat()}
    missing = httpx.post(url, json=body)
    assert missing.status_code == 401 and missing.json() == {"message": "Invalid token provided."}
    wrong = httpx.post(url, json=body, headers={"Circle-Token": "CCIPAT_wrong"})
    assert wrong.status_code == 401
    in_query = httpx.post(url, json=body, params={"circle-token": SIMULATOR_TOKEN})
    assert in_query.status_code == 401 and "query parameter" in in_query.json()["message"]
    assert httpx.post(url, json=body, auth=(SIMULATOR_TOKEN, "")).status_code == 201
    assert sim.token == SIMULATOR_TOKEN


def test_eleventh_creation_in_an_hour_is_rate_limited_per_org():
    with Simulator(end_date=END_DATE, days=30) as limited, httpx.Client(
        base_url=limited.circleci_api_url, headers={"Circle-Token": limited.token}
    ) as client:
        # Created "now", so the window must be recent: use the last days before today.
        end = datetime.now(UTC).replace(microsecond=0)
        start = end - timedelta(days=1)
        first, second = limited.org_ids
        assert [create(client, first, start, end).status_code for _ in range(10)] == [201] * 10
        refused = create(client, first, start, end)
        assert refused.status_code == 429
        assert refused.json() == {"message": "Rate limit exceeded."}
        assert 3500 < int(refused.headers["Retry-After"]) <= 3600
        assert create(client, second, start, end).status_code == 201


def test_status_reads_are_rate_limited_per_minute():
    with Simulator(end_date=END_DATE, days=30, get_limit_per_minute=3) as limited, httpx.Client(
        base_url=limited.circleci_api_url, headers={"Circle-Token": limited.token}
    ) as client:
        org_id = limited.org_ids[0]
        end = datetime.now(UTC)
        job_id = create(client, org_id, end - timedelta(days=1), end).json()["usage_export_job_id"]
        states = [status(client, org_id, job_id).json()["state"] for _ in range(3)]
        assert states == ["processing", "completed", "completed"]
        refused = status(client, org_id, job_id)
        assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 60
