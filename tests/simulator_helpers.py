"""Shared fixtures and helpers for the CircleCI simulator's usage-export tests: a simulator and
clients for its API and download origins, the spec's validators, export calls and CSV parsing."""

from __future__ import annotations

import csv
import gzip
import io
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from ciwatch_etl.schemas.circleci_usage_columns import USAGE_COLUMNS
from ciwatch_etl.simulator.circleci import Simulator

# A fixed world for shape checks and for simulators whose data is never exported; exports must
# lie within 13 months of today, so export tests use the default world ending yesterday.
END_DATE = date(2025, 10, 31)
HEADERS = [c.header for c in USAGE_COLUMNS]
KINDS = {c.header: c.kind for c in USAGE_COLUMNS}


def api_client(simulator: Simulator) -> httpx.Client:
    """A client of the simulator's CircleCI API, with its token."""
    return httpx.Client(base_url=simulator.circleci_api_url, headers={"Circle-Token": simulator.token}, timeout=30)


def get_json(api: httpx.Client, path: str, **params: str) -> dict[str, Any]:
    """The JSON body of a GET that must answer 200."""
    response = api.get(path, params=params)
    assert response.status_code == 200, (path, response.text)
    return response.json()


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


@pytest.fixture
def no_leftover_faults(sim):
    """Used by every test of the usage-export simulator files: a test's faults end with it."""
    yield
    sim.faults.clear()


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
