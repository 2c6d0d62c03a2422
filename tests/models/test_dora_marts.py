"""mart_dora_weekly / mart_dora_monthly on the hand-built history of `delivery_history`: the keys
worked out by hand for each week, and `metrics dora` giving the marts' figures for the same
windows (the two run one SQL definition, mart_dora_keys and mart_dora_tiers)."""

from __future__ import annotations

import json

import duckdb
import pytest
from click.testing import CliRunner

from ciwatch_etl.cli import cli
from ciwatch_etl.environment import Paths

# (mart, period_start, --period-days, --as-of): two weeks and the month of the history.
WINDOWS = [
    ("mart_dora_weekly", "2026-06-01", "7", "2026-06-07"),
    ("mart_dora_weekly", "2026-06-08", "7", "2026-06-14"),
    ("mart_dora_monthly", "2026-06-01", "30", "2026-06-30"),
]
REPOS = ["shop", "api"]
# The JSON's nesting of the mart's columns.
JSON_COLUMNS = {
    "deployment_frequency": {"deployments": "deployments", "deploy_days": "deploy_days",
                             "deploys_per_week": "deploys_per_week", "deploy_days_per_week": "deploy_days_per_week",
                             "tier": "deployment_frequency_tier"},
    "lead_time": {"median_seconds": "lead_time_median_seconds", "basis": "lead_time_basis",
                  "tier": "lead_time_tier"},
    "change_failure_rate": {"rate": "change_failure_rate", "failed_deployments": "failed_deployments",
                            "tier": "change_failure_rate_tier"},
    "time_to_restore": {"median_seconds": "restore_median_seconds", "restored_failures": "restored_failures",
                        "unrestored_failures": "unrestored_failures", "tier": "time_to_restore_tier"},
}


def mart_rows(paths: Paths, mart: str, period_start: str) -> dict[str, dict]:
    """The period's rows by repo ('(all)' for the overall row)."""
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        cursor = con.execute(f"select * from {mart} where period_start = $start and scope in ('repo', 'overall')",
                             {"start": period_start})
        names = [d[0] for d in cursor.description]
        return {row["repo"]: row for row in (dict(zip(names, r)) for r in cursor.fetchall())}


def as_json(row: dict) -> dict:
    return {key: {field: pytest.approx(row[column]) if isinstance(row[column], float) else row[column]
                  for field, column in fields.items()}
            for key, fields in JSON_COLUMNS.items()}


def dora(*args: str) -> dict:
    result = CliRunner().invoke(cli, ["metrics", "dora", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)["data"]


def test_weekly_keys_are_the_hand_worked_ones(delivery: Paths):
    first, second = mart_rows(delivery, "mart_dora_weekly", "2026-06-01"), mart_rows(delivery, "mart_dora_weekly",
                                                                                     "2026-06-08")
    # June 1-7, shop: A1 and A3 deploy (06-01, 06-03), A2 fails on 06-03 and A3 restores it 9000 s later
    assert as_json(first["shop"]) == {
        "deployment_frequency": {"deployments": 2, "deploy_days": 2, "deploys_per_week": 2.0,
                                 "deploy_days_per_week": 2.0, "tier": "high"},
        "lead_time": {"median_seconds": 2400.0, "basis": "pipeline_created", "tier": "elite"},  # (1200 + 3600) / 2
        "change_failure_rate": {"rate": pytest.approx(1 / 3), "failed_deployments": 1, "tier": "low"},
        "time_to_restore": {"median_seconds": 9000.0, "restored_failures": 1, "unrestored_failures": 0,
                            "tier": "high"},
    }
    # June 8-14, api: B2 fails and is never restored; a failed week still has a frequency of 0
    assert as_json(second["api"]) == {
        "deployment_frequency": {"deployments": 0, "deploy_days": 0, "deploys_per_week": 0.0,
                                 "deploy_days_per_week": 0.0, "tier": "low"},
        "lead_time": {"median_seconds": None, "basis": None, "tier": None},
        "change_failure_rate": {"rate": 1.0, "failed_deployments": 1, "tier": "low"},
        "time_to_restore": {"median_seconds": None, "restored_failures": 0, "unrestored_failures": 1, "tier": None},
    }
    assert first["docs"]["deployments"] == 0 and first["docs"]["deployment_frequency_tier"] is None
    assert "docs" not in second  # no run and no deployment that week
    assert first["(all)"]["deployments"] == 3 and second["(all)"]["deployments"] == 1


def test_monthly_rates_are_per_week_of_the_month(delivery: Paths):
    june = mart_rows(delivery, "mart_dora_monthly", "2026-06-01")
    assert june["shop"]["period_days"] == 30
    # 3 deploy days in 30 days: 0.7 a week (medium); api's one day: 7/30, still once a month
    assert june["shop"]["deploy_days_per_week"] == pytest.approx(0.7)
    assert june["shop"]["deployment_frequency_tier"] == "medium"
    assert june["api"]["deploy_days_per_week"] == pytest.approx(7 / 30)
    assert june["api"]["deployment_frequency_tier"] == "medium"


@pytest.mark.parametrize(("mart", "period_start", "days", "as_of"), WINDOWS)
@pytest.mark.parametrize("repo", REPOS)
def test_metrics_dora_for_a_repo_is_the_marts_row(delivery_home: Paths, mart, period_start, days, as_of, repo):
    data = dora("--period-days", days, "--as-of", as_of, "--repo", repo)
    expected = as_json(mart_rows(delivery_home, mart, period_start)[repo])
    assert {key: data[key] for key in JSON_COLUMNS} == expected
    (by_repo,) = data["by_repo"]
    assert {key: by_repo[key] for key in JSON_COLUMNS} == expected


@pytest.mark.parametrize(("mart", "period_start", "days", "as_of"), WINDOWS)
def test_metrics_dora_overall_and_per_repo_are_the_marts_rows(delivery_home: Paths, mart, period_start, days, as_of):
    data = dora("--period-days", days, "--as-of", as_of)
    rows = mart_rows(delivery_home, mart, period_start)
    assert {key: data[key] for key in JSON_COLUMNS} == as_json(rows.pop("(all)"))
    assert {r["repo"]: {key: r[key] for key in JSON_COLUMNS} for r in data["by_repo"]} == {
        repo: as_json(row) for repo, row in rows.items()
    }
