"""The CircleCI simulator's usage-export faults, over real HTTP: rate limits, server errors, slow
responses, missing URLs, failed exports, truncated and expired downloads; and its signed URLs."""


from __future__ import annotations

import gzip
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

# Helpers and fixtures; pytest finds the fixtures by name (hence F401 here, F811 at the top).
from simulator_helpers import (
    HEADERS,
    create,
    errors,
    export_urls,
    parse_file,
    recent_window,
    status,
)

from ciwatch_etl.simulator.circleci import SIMULATOR_TOKEN
from ciwatch_etl.simulator.circleci.presign import UrlRejected, UrlSigner

pytestmark = pytest.mark.usefixtures("no_leftover_faults")

# -- faults -----------------------------------------------------------------------------------


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
    assert "Slow" not in sim.faults.pending()
    assert create(api, org_id, start, end).status_code == 201


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


# -- signed URLs ------------------------------------------------------------------------------


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
