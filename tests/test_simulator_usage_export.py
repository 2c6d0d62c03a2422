"""The CircleCI simulator's usage export, over real HTTP: shapes checked against the official spec,
files against the ground truth, plus rate limits, faults, signed URLs, determinism and the world."""

from __future__ import annotations

import csv
import gzip
import io
import json
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import jsonschema
import pytest

from ciwatch_etl.schemas.circleci_usage_columns import USAGE_COLUMNS
from ciwatch_etl.simulator import SIMULATOR_TOKEN, Simulator
from ciwatch_etl.simulator.presign import UrlRejected, UrlSigner
from ciwatch_etl.simulator.resource_classes import RESOURCE_CLASSES

# A fixed world for shape checks and for simulators whose data is never exported; exports must
# lie within 13 months of today, so export tests use the default world ending yesterday.
END_DATE = date(2025, 10, 31)
HEADERS = [c.header for c in USAGE_COLUMNS]
KINDS = {c.header: c.kind for c in USAGE_COLUMNS}


def midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def recent_window(sim: Simulator, days: int) -> tuple[datetime, datetime]:
    """The last `days` days of the world: recent enough for the 13-month rule whatever today is."""
    end = midnight(sim.world.end_date)
    return end - timedelta(days=days), end


# -- fixtures and helpers ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def sim():
    # Generous limits: the rate-limit tests use simulators of their own.
    with Simulator(seed=7, post_limit_per_hour=1000, get_limit_per_minute=1000) as simulator:
        yield simulator


@pytest.fixture(autouse=True)
def no_leftover_faults(request):
    yield
    if "sim" in request.fixturenames:
        request.getfixturevalue("sim").faults.clear()


@pytest.fixture
def api(sim):
    with httpx.Client(base_url=sim.circleci_api_url, headers={"Circle-Token": sim.token}, timeout=10) as client:
        yield client


@pytest.fixture
def downloads():
    """A client for pre-signed URLs: it has no token, as none must be needed."""
    with httpx.Client(timeout=10) as client:
        yield client


@pytest.fixture(scope="module")
def spec_validators(refs_dir: Path) -> dict[str, jsonschema.Validator]:
    spec = json.loads((refs_dir / "circleci" / "openapi-final.circleci-docs.2025-10-17.json").read_text())
    schemas = spec["components"]["schemas"]
    return {
        name: jsonschema.Draft7Validator(schemas[name], format_checker=jsonschema.FormatChecker())
        for name in ("usage_export_job", "get_usage_export_job_status")
    }


def errors(validator: jsonschema.Validator, body: dict[str, Any]) -> list[tuple[list[Any], str]]:
    return sorted((list(e.path), e.validator) for e in validator.iter_errors(body))


def create(api: httpx.Client, org_id: str, start: datetime, end: datetime) -> httpx.Response:
    return api.post(f"/organizations/{org_id}/usage_export_job",
                    json={"start": start.isoformat(), "end": end.isoformat()})


def status(api: httpx.Client, org_id: str, job_id: str) -> httpx.Response:
    return api.get(f"/organizations/{org_id}/usage_export_job/{job_id}")


def export_urls(api: httpx.Client, org_id: str, start: datetime, end: datetime) -> list[str]:
    job_id = create(api, org_id, start, end).json()["usage_export_job_id"]
    for _ in range(5):
        body = status(api, org_id, job_id).json()
        if body["state"] == "completed" and body["download_urls"] is not None:
            return body["download_urls"]
    raise AssertionError(f"export never completed: {body}")


def download_all(client: httpx.Client, urls: list[str]) -> list[bytes]:
    files = []
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, response.text
        files.append(response.content)
    return files


def parse_value(text: str, kind: str) -> Any:
    if text == "\\N":
        return None
    return {
        "text": str,
        "date": date.fromisoformat,
        "timestamp": lambda t: datetime.strptime(t, "%Y-%m-%d %H:%M:%S.%f"),
        "integer": int,
        "number": float,
        "boolean": lambda t: {"true": True, "false": False}[t.lower()],
    }[kind](text)


def parse_file(blob: bytes) -> tuple[list[str], list[dict[str, Any]]]:
    reader = csv.reader(io.StringIO(gzip.decompress(blob).decode("utf-8")))
    header = next(reader)
    return header, [{h: parse_value(v, KINDS[h]) for h, v in zip(header, line, strict=True)} for line in reader]


# -- the happy path ----------------------------------------------------------------------------


def test_export_round_trip_matches_spec_files_and_ground_truth(sim, api, downloads, spec_validators, refs_dir):
    org_id = sim.org_ids[0]
    start, end = recent_window(sim, 14)  # at least 10 weekdays: enough rows for three files

    created = create(api, org_id, start, end)
    assert created.status_code == 201
    body = created.json()
    assert body["state"] == "created" and body["download_urls"] is None
    assert body["start"] == start.strftime("%Y-%m-%dT%H:%M:%SZ") and body["end"] == end.strftime("%Y-%m-%dT%H:%M:%SZ")
    # Documented deviation: the spec requires download_urls to be an array, but real 201s send
    # null (CircleCI support article); that is the only way the response departs from the spec.
    assert errors(spec_validators["usage_export_job"], body) == [(["download_urls"], "type")]

    job_id = body["usage_export_job_id"]
    processing = status(api, org_id, job_id).json()
    assert processing["state"] == "processing"
    assert errors(spec_validators["get_usage_export_job_status"], processing) == [(["download_urls"], "type")]

    completed = status(api, org_id, job_id).json()
    assert completed["state"] == "completed"
    assert errors(spec_validators["get_usage_export_job_status"], completed) == []
    urls = completed["download_urls"]
    assert all(url.startswith(f"{sim.download_origin}/usage-exports/{org_id}/{job_id}/part-") for url in urls)
    signed = set(parse_qs(urlsplit(urls[0]).query))
    assert {"X-Amz-Algorithm", "X-Amz-Date", "X-Amz-Expires", "X-Amz-Signature"} <= signed

    blobs = download_all(downloads, urls)
    parsed = [parse_file(blob) for blob in blobs]
    rows = [row for _, file_rows in parsed for row in file_rows]
    assert rows == sim.expected_usage_rows(org_id, start, end)
    assert len(rows) > 3000 and all(start <= r["JOB_RUN_STARTED_AT"].replace(tzinfo=UTC) <= end for r in rows)

    # Three files, each with its own header and layout, as real exports may be.
    sample_file = refs_dir / "circleci/usage_export/faros/usage-export.csv"
    sample_header = sample_file.read_text().splitlines()[0].split(",")
    assert [header for header, _ in parsed] == [HEADERS, sample_header, HEADERS]
    assert all(sorted(header) == sorted(HEADERS) and len(header) == 48 for header, _ in parsed)
    texts = [gzip.decompress(blob).decode().splitlines() for blob in blobs]
    assert ",\\N," in "\n".join(texts[0][1:]) and not texts[0][1].startswith('"')
    assert all(line.startswith('"') and line.endswith('"') for line in texts[1])
    assert '"\\N"' in "\n".join(texts[1][1:50])
    assert ",true," in "\n".join(texts[0][1:]) or ",false," in "\n".join(texts[0][1:])
    assert '"False"' in "\n".join(texts[1][1:])
    assert ",False," in "\n".join(texts[2][1:]) and ",false," not in "\n".join(texts[2][1:])
    assert any(line.count('"') == 2 for line in texts[0][1:]), "minimal quoting still quotes a job name with a comma"

    job_path = f"/usage-exports/{org_id}/{job_id}/"
    download_requests = [r for r in sim.requests if r.origin == "download" and r.path.startswith(job_path)]
    assert len(download_requests) == len(urls)
    assert all("circle-token" not in r.headers and "authorization" not in r.headers for r in download_requests)


def test_export_window_is_inclusive_on_job_start_time(sim, api, downloads):
    org_id = sim.org_ids[1]
    day_start, _ = recent_window(sim, 3)
    job_start = sim.expected_usage_rows(org_id, day_start, day_start + timedelta(hours=12))[0]["JOB_RUN_STARTED_AT"]
    started = job_start.replace(tzinfo=UTC)

    included = download_all(downloads, export_urls(api, org_id, started, started + timedelta(hours=1)))
    assert job_start in [row["JOB_RUN_STARTED_AT"] for row in parse_file(included[0])[1]]
    ending = download_all(downloads, export_urls(api, org_id, started - timedelta(hours=1), started))
    assert parse_file(ending[-1])[1][-1]["JOB_RUN_STARTED_AT"] == job_start
    after = download_all(downloads, export_urls(api, org_id, started + timedelta(milliseconds=1), started + timedelta(hours=1)))
    assert job_start not in [row["JOB_RUN_STARTED_AT"] for blob in after for row in parse_file(blob)[1]]


def test_shared_org_ids_add_the_shared_orgs_rows(sim, api, downloads):
    own, shared = sim.org_ids
    start, end = recent_window(sim, 1)
    job = api.post(f"/organizations/{own}/usage_export_job",
                   json={"start": start.isoformat(), "end": end.isoformat(), "shared_org_ids": [shared]}).json()
    status(api, own, job["usage_export_job_id"])
    urls = status(api, own, job["usage_export_job_id"]).json()["download_urls"]
    orgs = Counter(row["ORGANIZATION_ID"] for blob in download_all(downloads, urls) for row in parse_file(blob)[1])
    assert orgs == {own: len(sim.expected_usage_rows(own, start, end)),
                    shared: len(sim.expected_usage_rows(shared, start, end))}


# -- validation, auth, rate limits -------------------------------------------------------------


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


# -- faults ------------------------------------------------------------------------------------


def test_rate_limit_fault_plain_text_then_json_then_off(sim, api):
    org_id = sim.org_ids[0]
    start, end = recent_window(sim, 1)
    sim.faults.rate_limit(times=2, retry_after=3)
    for _ in range(2):
        response = create(api, org_id, start, end)
        assert response.status_code == 429 and response.headers["Retry-After"] == "3"
        assert response.text == "Rate limit exceeded" and response.headers["Content-Type"].startswith("text/plain")
    sim.faults.rate_limit(plain_text=False)
    response = create(api, org_id, start, end)
    assert response.status_code == 429 and response.json() == {"message": "Rate limit exceeded."}
    assert create(api, org_id, start, end).status_code == 201
    assert sim.faults.pending() == {}


def test_server_error_fault(sim, api):
    org_id = sim.org_ids[0]
    start, end = recent_window(sim, 1)
    sim.faults.server_error()
    response = create(api, org_id, start, end)
    assert response.status_code == 500 and response.json() == {"message": "Internal server error."}
    sim.faults.server_error(status=503)
    response = create(api, org_id, start, end)
    assert response.status_code == 503 and "Service Unavailable" in response.text
    assert create(api, org_id, start, end).status_code == 201


def test_faults_armed_together_queue_so_each_is_seen(sim, api):
    org_id = sim.org_ids[0]
    start, end = recent_window(sim, 1)
    sim.faults.rate_limit(times=1, plain_text=False)
    sim.faults.server_error(times=1, status=502)
    assert [create(api, org_id, start, end).status_code for _ in range(3)] == [429, 502, 201]


def test_slow_fault_delays_then_stops(sim, api):
    org_id = sim.org_ids[0]
    start, end = recent_window(sim, 1)
    sim.faults.slow(seconds=0.6)
    began = time.perf_counter()
    assert create(api, org_id, start, end).status_code == 201
    assert time.perf_counter() - began >= 0.6
    began = time.perf_counter()
    assert create(api, org_id, start, end).status_code == 201
    assert time.perf_counter() - began < 0.5


def test_null_download_urls_fault_means_keep_polling(sim, api, spec_validators):
    org_id = sim.org_ids[0]
    start, end = recent_window(sim, 1)
    job_id = create(api, org_id, start, end).json()["usage_export_job_id"]
    sim.faults.null_download_urls()
    assert status(api, org_id, job_id).json()["state"] == "processing"
    completed_without_urls = status(api, org_id, job_id).json()
    assert completed_without_urls["state"] == "completed" and completed_without_urls["download_urls"] is None
    completed = status(api, org_id, job_id).json()
    assert completed["state"] == "completed" and completed["download_urls"]
    assert errors(spec_validators["get_usage_export_job_status"], completed) == []


def test_export_failed_fault(sim, api, spec_validators):
    org_id = sim.org_ids[0]
    start, end = recent_window(sim, 1)
    sim.faults.export_failed(reason="query timeout")
    job_id = create(api, org_id, start, end).json()["usage_export_job_id"]
    status(api, org_id, job_id)
    for _ in range(2):  # failed is final
        failed = status(api, org_id, job_id).json()
        assert failed == {"usage_export_job_id": job_id, "state": "failed", "download_urls": None,
                          "error_reason": "query timeout"}
    assert errors(spec_validators["get_usage_export_job_status"], failed) == [(["download_urls"], "type")]
    assert export_urls(api, org_id, start, end)


def test_truncated_gzip_fault(sim, api, downloads):
    start, end = recent_window(sim, 1)
    url = export_urls(api, sim.org_ids[0], start, end)[0]
    sim.faults.truncated_gzip()
    cut = downloads.get(url)
    assert cut.status_code == 200
    with pytest.raises(EOFError):
        gzip.decompress(cut.content)
    whole = downloads.get(url)
    assert len(whole.content) > len(cut.content)
    assert parse_file(whole.content)[0] == HEADERS


def test_expired_url_fault(sim, api, downloads):
    start, end = recent_window(sim, 1)
    url = export_urls(api, sim.org_ids[0], start, end)[0]
    sim.faults.expired_url()
    expired = downloads.get(url)
    assert expired.status_code == 403 and expired.headers["Content-Type"] == "application/xml"
    assert "<Error><Code>AccessDenied</Code><Message>Request has expired</Message>" in expired.text
    assert downloads.get(url).status_code == 200


def test_faults_stay_on_their_origin_and_clear_switches_them_off(sim, api, downloads):
    org_id = sim.org_ids[0]
    start, end = recent_window(sim, 1)
    url = export_urls(api, org_id, start, end)[0]
    sim.faults.rate_limit()
    sim.faults.expired_url()
    assert downloads.get(url).status_code == 403  # the download fault, not the API one
    assert downloads.get(url).status_code == 200
    assert create(api, org_id, start, end).status_code == 429
    sim.faults.server_error(times=5)
    sim.faults.truncated_gzip(times=5)
    assert sim.faults.pending() == {"ServerError": 5, "TruncatedGzip": 5}
    sim.faults.clear()
    assert create(api, org_id, start, end).status_code == 201
    assert gzip.decompress(downloads.get(url).content)
    with pytest.raises(ValueError):
        sim.faults.slow(times=0)


# -- signed URLs -------------------------------------------------------------------------------


def test_download_urls_are_checked_by_signature_and_minted_per_poll(sim, api, downloads):
    org_id = sim.org_ids[0]
    start, end = recent_window(sim, 1)
    job_id = create(api, org_id, start, end).json()["usage_export_job_id"]
    status(api, org_id, job_id)
    first = status(api, org_id, job_id).json()["download_urls"][0]
    time.sleep(1.05)  # X-Amz-Date has whole seconds
    second = status(api, org_id, job_id).json()["download_urls"][0]
    assert first != second
    assert downloads.get(first).content == downloads.get(second).content

    split = urlsplit(first)
    params = {k: v[0] for k, v in parse_qs(split.query).items()}
    forged = downloads.get(f"{sim.download_origin}{split.path}?{urlencode({**params, 'X-Amz-Signature': '0' * 64})}")
    assert forged.status_code == 403 and "<Code>SignatureDoesNotMatch</Code>" in forged.text
    other_path = split.path.replace("part-0000", "part-0001")
    assert downloads.get(f"{sim.download_origin}{other_path}?{split.query}").status_code == 403
    later = downloads.get(f"{sim.download_origin}{split.path}?{urlencode({**params, 'X-Amz-Expires': '999999'})}")
    assert later.status_code == 403, "the lifetime is signed too"
    assert downloads.get(f"{sim.download_origin}{split.path}").status_code == 403
    with_credentials = downloads.get(first, headers={"Authorization": f"Basic {SIMULATOR_TOKEN}"})
    assert with_credentials.status_code == 400 and "<Code>InvalidArgument</Code>" in with_credentials.text


def test_signer_refuses_expired_urls():
    signer = UrlSigner(b"secret", "http://127.0.0.1:1")
    signed_at = datetime(2025, 7, 1, 12, 0, tzinfo=UTC)
    split = urlsplit(signer.sign("/usage-exports/o/j/part-0000.csv.gz", signed_at))
    params = {k: v[0] for k, v in parse_qs(split.query).items()}
    signer.verify(split.path, params, signed_at + timedelta(seconds=signer.ttl_seconds))
    with pytest.raises(UrlRejected) as rejected:
        signer.verify(split.path, params, signed_at + timedelta(seconds=signer.ttl_seconds + 1))
    assert (rejected.value.code, rejected.value.message) == ("AccessDenied", "Request has expired")


# -- determinism and the world -----------------------------------------------------------------


def test_same_arguments_serve_byte_identical_files(downloads):
    def files(seed: int) -> list[bytes]:
        with Simulator(end_date=date.today() - timedelta(days=1), days=30, seed=seed) as s, httpx.Client(
            base_url=s.circleci_api_url, headers={"Circle-Token": s.token}
        ) as client:
            start, end = recent_window(s, 4)  # at least two weekdays: more than one file
            return download_all(downloads, export_urls(client, s.org_ids[0], start, end))

    first = files(seed=7)
    assert len(first) >= 2
    assert files(seed=7) == first
    assert files(seed=8) != first


@pytest.fixture(scope="module")
def world_jobs():
    simulator = Simulator(end_date=END_DATE, days=120, seed=7)
    assert (simulator.first_date, simulator.end_date) == (END_DATE - timedelta(days=119), END_DATE)
    world = simulator.world
    began = time.perf_counter()
    jobs = world.jobs_started_between([org.id for org in world.orgs], midnight(world.first_date),
                                      midnight(world.end_date + timedelta(days=2)))
    return world, jobs, time.perf_counter() - began


def test_world_shape(world_jobs):
    world, jobs, seconds = world_jobs
    assert len(world.orgs) == 2 and all(len(org.projects) == 8 for org in world.orgs)
    assert len({p.id for org in world.orgs for p in org.projects}) == 16
    assert [p.slug for p in world.orgs[0].projects][:2] == ["gh/acme-robotics/api-gateway", "gh/acme-robotics/billing-service"]
    assert world.orgs[1].projects[0].vcs_url == "https://bitbucket.org/globex-labs/checkout-api"
    assert 60_000 <= len(jobs) <= 150_000
    assert seconds < 5, f"generating the whole world took {seconds:.1f}s"

    statuses = Counter(job.status for job in jobs)
    assert 0.06 <= (statuses["failed"] + statuses["infrastructure_fail"]) / len(jobs) <= 0.10
    assert 0.015 <= statuses["canceled"] / len(jobs) <= 0.05
    assert {j.workflow.pipeline.trigger_source for j in jobs} == {"webhook", "api", "schedule"}
    assert {"main"} < {j.workflow.pipeline.branch for j in jobs}

    # Cancellations are superseded workflows: a newer pipeline on the same branch came first.
    canceled = next(j for j in jobs if j.status == "canceled")
    pipeline = canceled.workflow.pipeline
    newer = [p for p in world.pipelines(pipeline.project, pipeline.created_at.date())
             if p.branch == pipeline.branch and pipeline.created_at < p.created_at <= canceled.stopped_at]
    assert newer and pipeline.branch != "main"

    # Re-runs: same pipeline, new workflow id, the jobs run again.
    reruns = [j for j in jobs if j.workflow.rerun_of is not None]
    assert reruns
    rerun = reruns[0].workflow
    original = next(w for w in rerun.pipeline.workflows if w.id == rerun.rerun_of)
    assert original.name == rerun.name and original.status == "failed" and original.id != rerun.id
    assert {j.name for j in rerun.jobs} >= {j.name for j in original.jobs if j.status == "failed"}

    over = [j for j in jobs if j.utilisation and j.spec.resource_class.name in {"large", "xlarge", "2xlarge"}
            and max(j.utilisation.median_cpu_pct, j.utilisation.max_cpu_pct,
                    j.utilisation.median_ram_pct, j.utilisation.max_ram_pct) < 40]
    assert len(over) > 1000

    by_weekday = Counter(j.started_at.weekday() for j in jobs)
    weekend_per_day = (by_weekday[5] + by_weekday[6]) / 2
    assert weekend_per_day < 0.3 * min(by_weekday[d] for d in range(5))
    assert all(j.queued_at < j.started_at <= j.stopped_at for j in jobs)
    # CircleCI's timestamps have millisecond precision; the files can carry no more.
    assert all(t.microsecond % 1000 == 0 for j in jobs for t in (j.queued_at, j.started_at, j.stopped_at))


def test_rows_keep_credit_and_utilisation_rules(sim):
    start, end = recent_window(sim, 7)
    rows = sim.expected_usage_rows(sim.org_ids[1], start, end)
    assert rows and all(list(row) == HEADERS for row in rows)
    credit_types = [h for h in HEADERS if h.endswith("_CREDITS") and h != "TOTAL_CREDITS"]
    for row in rows:
        assert round(sum(row[h] for h in credit_types), 2) == row["TOTAL_CREDITS"]
        rate = RESOURCE_CLASSES[(row["EXECUTOR"], row["RESOURCE_CLASS"])].credits_per_minute
        assert row["COMPUTE_CREDITS"] == round(rate * row["JOB_RUN_SECONDS"] / 60 * row["PARALLELISM"], 2)
        assert row["JOB_RUN_DATE"] == row["JOB_RUN_STARTED_AT"].date()
        if row["JOB_RUN_SECONDS"] < 15:
            assert row["MEDIAN_CPU_UTILIZATION_PCT"] is None and row["MAX_RAM_UTILIZATION_PCT"] is None
    assert any(row["DLC_CREDITS"] > 0 for row in rows) and any(row["STORAGE_CREDITS"] > 0 for row in rows)
    assert any(row["IS_UNREGISTERED_USER"] for row in rows)
    assert any(row["PIPELINE_TRIGGER_USER_ID"] is None for row in rows)
