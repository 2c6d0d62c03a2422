"""fct_deployments and `metrics dora` on the hand-built history of `delivery_history`, whose
docstring works out every figure by hand; and the DORA 2023 tier thresholds."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from delivery_history import run
from lake_rows import write_rows

from ciwatch_etl.cli import cli
from ciwatch_etl.landing.tables import CIRCLECI_USAGE_JOBS
from ciwatch_etl.metrics.tiers import (
    change_failure_rate_tier,
    deployment_frequency_tier,
    lead_time_tier,
    time_to_restore_tier,
)
from ciwatch_etl.environment import Paths
from ciwatch_etl.warehouse.build import build_warehouse

HOUR, DAY = 3600, 86400
WINDOW = ("--period-days", "14", "--as-of", "2026-06-14")


def dora(*args: str) -> dict:
    result = CliRunner().invoke(cli, ["metrics", "dora", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)["data"]


def test_deployments_are_detected_per_job_with_their_environment(delivery: Paths):
    with duckdb.connect(str(delivery.warehouse), read_only=True) as con:
        found = con.execute("""
            select run_id, deployment_name, detected_by, environment, outcome, lead_time_seconds, restore_seconds
            from fct_deployments order by run_id, deployment_name
        """).fetchall()
    assert found == [
        ("A1", "deploy-production", "job_name", "production", "success", 1200.0, None),
        ("A1", "deploy-staging", "job_name", "other", "success", 600.0, None),
        ("A2", "deploy-production", "job_name", "production", "failed", 1800.0, 9000.0),
        ("A3", "deploy-production", "job_name", "production", "success", 3600.0, None),
        ("A4", "deploy-staging", "job_name", "other", "success", 600.0, None),
        ("A5", "deploy-staging", "job_name", "other", "failed", 600.0, None),
        ("A6", "deploy-production", "job_name", "production", "success", 2400.0, None),
        ("B1", "release-prod", "job_name", "production", "success", 1800.0, None),
        ("B2", "release-prod", "job_name", "production", "failed", 1200.0, None),
        ("C1", "deploy-staging", "workflow_name", "other", "success", 300.0, None),
    ]


def test_metrics_dora_gives_the_hand_computed_keys_and_tiers(delivery_home: Paths):
    data = dora(*WINDOW)
    assert (data["period_days"], data["first_day"], data["last_day"]) == (14, "2026-06-01", "2026-06-14")
    assert data["deployment_frequency"] == {"deployments": 4, "deploy_days": 4, "deploys_per_week": 2.0,
                                            "deploy_days_per_week": 2.0, "tier": "high"}
    assert data["lead_time"] == {"median_seconds": 2100.0, "basis": "pipeline_created", "tier": "elite"}
    assert data["change_failure_rate"] == {"rate": pytest.approx(2 / 6), "failed_deployments": 2, "tier": "low"}
    assert data["time_to_restore"] == {"median_seconds": 9000.0, "restored_failures": 1, "unrestored_failures": 1,
                                       "tier": "high"}
    assert [p["provider"] for p in data["by_provider"]] == ["circleci"]
    repos = {r["repo"]: r for r in data["by_repo"]}
    assert set(repos) == {"shop", "api", "docs"}
    shop, api, docs = repos["shop"], repos["api"], repos["docs"]
    assert shop["deployment_frequency"] == {"deployments": 3, "deploy_days": 3, "deploys_per_week": 1.5,
                                            "deploy_days_per_week": 1.5, "tier": "high"}
    assert (shop["lead_time"]["median_seconds"], shop["lead_time"]["tier"]) == (2400.0, "elite")
    assert shop["change_failure_rate"] == {"rate": 0.25, "failed_deployments": 1, "tier": "low"}
    assert shop["time_to_restore"] == {"median_seconds": 9000.0, "restored_failures": 1, "unrestored_failures": 0,
                                       "tier": "high"}
    assert api["deployment_frequency"]["deploy_days_per_week"] == 0.5
    assert api["deployment_frequency"]["tier"] == "medium"
    assert (api["lead_time"]["median_seconds"], api["lead_time"]["tier"]) == (1800.0, "elite")
    assert api["change_failure_rate"] == {"rate": 0.5, "failed_deployments": 1, "tier": "low"}
    assert api["time_to_restore"] == {"median_seconds": None, "restored_failures": 0, "unrestored_failures": 1,
                                      "tier": None}
    assert docs["deployment_frequency"] == {"deployments": 0, "deploy_days": 0, "deploys_per_week": 0.0,
                                            "deploy_days_per_week": None, "tier": None}
    assert docs["lead_time"]["tier"] is None and docs["change_failure_rate"]["rate"] is None
    assert docs["change_failure_rate"]["tier"] is None and docs["time_to_restore"]["tier"] is None


def test_filters_and_windows_narrow_the_keys(delivery_home: Paths):
    shop = dora(*WINDOW, "--repo", "shop")
    assert shop["deployment_frequency"]["deployments"] == 3 and [r["repo"] for r in shop["by_repo"]] == ["shop"]
    assert dora(*WINDOW, "--org", "acme")["deployment_frequency"]["deployments"] == 4
    assert dora(*WINDOW, "--provider", "gocdnext")["deployment_frequency"]["tier"] is None
    # June 4-10: A3 is out, so A2's restore is too; A6 is in
    week = dora("--period-days", "7", "--as-of", "2026-06-10", "--repo", "shop")
    assert week["deployment_frequency"]["deployments"] == 1
    assert week["change_failure_rate"]["failed_deployments"] == 0


def test_a_deployment_branch_from_ciwatch_toml_makes_successful_runs_deployments(tmp_path: Path,
                                                                               monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    paths = Paths(tmp_path / "home")
    (tmp_path / "ciwatch.toml").write_text(
        '[repos."site"]\ndeployment_branch = "live"\nproduction_pattern = "^live$"\n'
    )
    ok, failed = "success", "failed"
    write_rows(paths.lake, CIRCLECI_USAGE_JOBS, [
        *run("L1", "site", "build", "2026-06-02 10:00:00", [("test", ok, 0, 600)], branch="live"),
        *run("L2", "site", "build", "2026-06-03 10:00:00", [("test", failed, 0, 600)], branch="live"),
        *run("L3", "site", "build", "2026-06-04 10:00:00", [("test", ok, 0, 600)], branch="main"),
        *run("L4", "other", "build", "2026-06-05 10:00:00", [("test", ok, 0, 600)], branch="live"),
    ])
    build_warehouse(paths, 0.01)
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        found = con.execute(
            "select run_id, detected_by, environment, outcome from fct_deployments order by run_id"
        ).fetchall()
        rules = con.execute("select repo, deployment_branch from raw.repo_rules order by repo nulls first").fetchall()
    # a failed run on the branch is no deployment; the default rules know no deployment branch
    assert found == [("L1", "deployment_branch", "production", "success")]
    assert rules == [(None, None), ("site", "live")]
    # such deployments cannot fail, so they give frequency and lead time but no failure rate
    monkeypatch.setenv("CIWATCH_HOME", str(paths.home))
    site = dora(*WINDOW, "--repo", "site")
    assert site["deployment_frequency"]["deployments"] == 1 and site["lead_time"]["median_seconds"] == 600
    assert site["change_failure_rate"] == {"rate": None, "failed_deployments": 0, "tier": None}


@pytest.mark.parametrize(("value", "tier"), [
    (None, None), (7.0, "elite"), (5.0, "elite"), (4.99, "high"), (1.0, "high"), (0.99, "medium"),
    (12 / 52, "medium"), (7 / 31, "medium"), (1 * 7 / 31, "medium"), (0.2258, "low"), (0.0, "low"),
])
def test_deployment_frequency_tiers(value, tier):
    assert deployment_frequency_tier(value) == tier


@pytest.mark.parametrize(("value", "tier"), [
    (None, None), (0.0, "elite"), (DAY - 1, "elite"), (DAY, "high"), (7 * DAY - 1, "high"), (7 * DAY, "medium"),
    (30 * DAY - 1, "medium"), (30 * DAY, "low"),
])
def test_lead_time_tiers(value, tier):
    assert lead_time_tier(value) == tier


@pytest.mark.parametrize(("value", "tier"), [
    (None, None), (0.0, "elite"), (0.05, "elite"), (0.051, "high"), (0.10, "high"), (0.15, "medium"),
    (0.1501, "low"), (1.0, "low"),
])
def test_change_failure_rate_tiers(value, tier):
    assert change_failure_rate_tier(value) == tier


@pytest.mark.parametrize(("value", "tier"), [
    (None, None), (HOUR - 1, "elite"), (HOUR, "high"), (DAY - 1, "high"), (DAY, "medium"), (7 * DAY - 1, "medium"),
    (7 * DAY, "low"),
])
def test_time_to_restore_tiers(value, tier):
    assert time_to_restore_tier(value) == tier
