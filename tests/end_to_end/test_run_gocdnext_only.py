"""`ciwatch-etl run` with only gocdnext configured pulls gocdnext alone; the rest skip, one line per source."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from ciwatch_etl.cli import cli
from ciwatch_etl.simulator.gocdnext import GocdnextSimulator

OTHER_SOURCES = (
    "CIRCLECI_TOKEN", "CIRCLECI_ORG_IDS", "CIRCLECI_PROJECT_SLUGS", "CIRCLECI_API_URL",
    "SOURCECRAFT_TOKEN", "SOURCECRAFT_REPO_IDS", "SOURCECRAFT_API_URL",
)


def test_run_with_only_gocdnext_configured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    for name in OTHER_SOURCES:
        monkeypatch.delenv(name, raising=False)
    with GocdnextSimulator(now=datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc), days=10) as gocdnext:
        monkeypatch.setenv("CIWATCH_HOME", str(tmp_path / "home"))
        monkeypatch.setenv("GOCDNEXT_URL", gocdnext.url)
        monkeypatch.setenv("GOCDNEXT_TOKEN", gocdnext.token)
        result = CliRunner().invoke(cli, ["run", "--since", "2026-11-18", "--until", "2026-11-19"])
        requests = len(gocdnext.requests)
    assert result.exit_code == 0, result.output
    assert "circleci: skipped, CIRCLECI_TOKEN, CIRCLECI_ORG_IDS, CIRCLECI_PROJECT_SLUGS not set" in result.stdout
    assert "sourcecraft: skipped, SOURCECRAFT_TOKEN, SOURCECRAFT_REPO_IDS not set" in result.stdout
    assert "gocdnext" not in "".join(line for line in result.stdout.splitlines() if "skipped" in line)
    assert requests > 0
    with duckdb.connect(str(tmp_path / "home" / "warehouse.duckdb"), read_only=True) as con:
        counts = dict(con.execute("select provider, count(*) from int_ci_runs group by provider").fetchall())
        usage = con.execute("select count(*) from raw.circleci_usage_jobs").fetchone()[0]
    assert set(counts) == {"gocdnext"} and counts["gocdnext"] > 0
    assert usage == 0
