"""`ciwatch-etl run` against the simulator with faults on: every job lands once, the token stays secret."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from ciwatch_etl.cli import cli
from ciwatch_etl.simulator.circleci import Simulator

# Days relative to today: the usage export API refuses a start more than a year back.
END = datetime.now(timezone.utc).date() - timedelta(days=20)
FIRST, LAST = END - timedelta(days=30), END - timedelta(days=21)
DAY = FIRST + timedelta(days=4)


@pytest.fixture
def sim():
    with Simulator(end_date=END, days=45) as simulator:
        yield simulator


@pytest.fixture
def configured(sim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    (tmp_path / "dagster").mkdir()
    monkeypatch.chdir(tmp_path)  # no stray .env from the working tree
    for name in ("SOURCECRAFT_TOKEN", "SOURCECRAFT_REPO_IDS", "GOCDNEXT_URL", "GOCDNEXT_TOKEN"):
        monkeypatch.delenv(name, raising=False)  # CircleCI alone
    for name, value in {
        "CIWATCH_HOME": str(home),
        "DAGSTER_HOME": str(tmp_path / "dagster"),
        "CIRCLECI_API_URL": sim.circleci_api_url,
        "CIRCLECI_TOKEN": sim.token,
        "CIRCLECI_ORG_IDS": ",".join(sim.org_ids),
        "CIRCLECI_POLL_SECONDS": "0.01",
        # One project keeps the Insights and pipeline pulls that run alongside short.
        "CIRCLECI_PROJECT_SLUGS": sim.project_slugs[0],
    }.items():
        monkeypatch.setenv(name, value)
    return home


def _expected_job_ids(sim, first: date, last: date) -> set[str]:
    start = datetime.combine(first, datetime.min.time(), tzinfo=timezone.utc)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=timezone.utc)
    return {
        row["JOB_ID"]
        for org in sim.org_ids
        for row in sim.expected_usage_rows(org, start, end - timedelta(milliseconds=1))
    }


def test_run_with_faults_lands_every_job_exactly_once(sim, configured: Path, tmp_path: Path, caplog):
    sim.faults.rate_limit(times=2, retry_after=1, plain_text=True)
    sim.faults.server_error(times=2, status=503)
    sim.faults.null_download_urls(times=1)
    sim.faults.export_failed(times=1, reason="query timeout")
    sim.faults.truncated_gzip(times=1)
    sim.faults.expired_url(times=1)

    result = CliRunner().invoke(cli, ["run", "--since", FIRST.isoformat(), "--until", LAST.isoformat()])
    assert result.exit_code == 0, result.output

    with duckdb.connect(str(configured / "warehouse.duckdb"), read_only=True) as con:
        ids = [row[0] for row in con.execute("select job_id from raw.circleci_usage_jobs").fetchall()]
        days = con.execute("select min(job_run_date), max(job_run_date) from raw.circleci_usage_jobs").fetchall()
    assert len(ids) == len(set(ids)), "no job twice"
    assert set(ids) == _expected_job_ids(sim, FIRST, LAST)
    assert days == [(FIRST, LAST)]

    downloads = [r for r in sim.requests if r.origin == "download"]
    assert downloads, "files were downloaded"
    for request in downloads:
        assert "circle-token" not in {k.lower() for k in request.headers}
        assert sim.token not in " ".join(request.headers.values())
    assert sim.token not in result.output
    assert sim.token not in caplog.text
    leaks = [p for p in tmp_path.rglob("*") if p.is_file() and sim.token.encode() in p.read_bytes()]
    assert leaks == [], f"token written to {leaks}"


def test_run_again_changes_nothing(sim, configured: Path):
    args = ["run", "--since", DAY.isoformat(), "--until", (DAY + timedelta(days=1)).isoformat()]
    assert CliRunner().invoke(cli, args).exit_code == 0
    query = "select * from raw.circleci_usage_jobs order by job_id"
    with duckdb.connect(str(configured / "warehouse.duckdb"), read_only=True) as con:
        before = con.execute(query).fetchall()
    assert before
    assert CliRunner().invoke(cli, args).exit_code == 0
    with duckdb.connect(str(configured / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute(query).fetchall() == before


def test_with_nothing_configured_the_run_fails_with_one_line_per_source(
    configured: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv("CIRCLECI_TOKEN")
    result = CliRunner().invoke(cli, ["run", "--since", DAY.isoformat(), "--until", DAY.isoformat()])
    assert result.exit_code == 1, result.output
    lines = [line for line in result.stderr.splitlines() if ": skipped, " in line]
    assert lines == [
        "circleci: skipped, CIRCLECI_TOKEN not set",
        "sourcecraft: skipped, SOURCECRAFT_TOKEN, SOURCECRAFT_REPO_IDS not set",
        "gocdnext: skipped, GOCDNEXT_URL, GOCDNEXT_TOKEN not set",
    ]
    assert not (configured / "warehouse.duckdb").exists()  # nothing ran, nothing was published
