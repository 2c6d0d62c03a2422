"""`ciwatch-etl load-usage` goes through Dagster: the usage asset is materialized with the files as
its run config (so Dagster records the load and its counts), then the SQL models, and no source
API is pulled, however many are configured."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
from click.testing import CliRunner

from ciwatch_etl.cli import cli

# Sources configured to answer nothing: a pull of any of them would fail the command.
DEAD_SOURCES = {
    "CIRCLECI_TOKEN": "a-token", "CIRCLECI_ORG_IDS": "org-1", "CIRCLECI_API_URL": "http://127.0.0.1:9/api/v2",
    "SOURCECRAFT_TOKEN": "a-token", "SOURCECRAFT_REPO_IDS": "repo-1", "SOURCECRAFT_API_URL": "http://127.0.0.1:9",
    "GOCDNEXT_URL": "http://127.0.0.1:9", "GOCDNEXT_TOKEN": "a-token",
}


def test_load_usage_records_the_usage_materialization_and_pulls_no_api(
    tmp_path: Path, ciwatch_home: Path, refs_dir: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    (tmp_path / "dagster").mkdir()
    for name, value in DEAD_SOURCES.items():
        monkeypatch.setenv(name, value)
    sample = refs_dir / "circleci/usage_export/faros/usage-export.csv"

    result = CliRunner().invoke(cli, ["load-usage", str(sample)], catch_exceptions=False)

    assert result.exit_code == 0, result.output
    with dg.DagsterInstance.get() as instance:
        usage = instance.get_latest_materialization_event(dg.AssetKey("circleci_usage_jobs"))
        runs = instance.get_runs()
        materialized = {
            key.to_user_string() for key in instance.get_asset_keys()
            if instance.get_latest_materialization_event(key) is not None
        }
        tokens = [str(run.run_config) for run in runs if "a-token" in str(run.run_config)]
    metadata = usage.asset_materialization.metadata
    assert metadata["files"].value == 1 and metadata["rows_read"].value > 0
    assert metadata["rows_read"].value == metadata["rows_landed"].value + metadata["rows_quarantined"].value
    assert "fct_credit_usage_daily" in materialized
    pulls = {"circleci_insights_workflow_runs", "circleci_pipelines", "circleci_projects", "sourcecraft_ci_runs",
             "gocdnext_runs"}
    assert materialized & pulls == set()
    assert len(runs) == 2  # the landing, then the models
    assert tokens == []  # run config holds the files' paths, never a secret
