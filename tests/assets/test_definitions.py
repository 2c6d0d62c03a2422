"""The Dagster code location: it validates, and its schedule asks for the right days."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import dagster as dg

from ciwatch_etl.definitions import build_definitions
from ciwatch_etl.schedules import nightly_schedule

PROJECT = Path(__file__).resolve().parents[2]


def test_dagster_definitions_validate_passes(tmp_path: Path):
    dagster = shutil.which("dagster", path=os.path.dirname(sys.executable)) or "dagster"
    result = subprocess.run(
        [dagster, "definitions", "validate", "-w", str(PROJECT / "workspace.yaml")],
        cwd=PROJECT,
        env={**os.environ, "DAGSTER_HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All code locations passed validation" in result.stdout + result.stderr


def test_every_asset_and_check_is_in_the_code_location():
    defs = build_definitions()
    keys = {key.to_user_string() for key in defs.resolve_all_asset_keys()}
    assert {"circleci_usage_jobs", "stg_circleci__usage_jobs", "fct_credit_usage_daily"} <= keys
    checks = defs.resolve_asset_graph().asset_check_keys
    assert any(c.asset_key.to_user_string() == "fct_credit_usage_daily" for c in checks)
    assert defs.resolve_job_def("nightly").partitions_def is not None


def test_nightly_schedule_pulls_yesterday_with_a_two_day_lookback():
    context = dg.build_schedule_context(scheduled_execution_time=datetime(2026, 11, 22, 2, 0))
    request = nightly_schedule(context)
    assert request.tags["dagster/asset_partition_range_start"] == "2026-11-19"
    assert request.tags["dagster/asset_partition_range_end"] == "2026-11-21"
    assert request.run_key == "2026-11-21"


def test_tokens_are_not_in_resource_config(monkeypatch):
    monkeypatch.setenv("CIRCLECI_TOKEN", "secret-token-value")
    monkeypatch.setenv("CIRCLECI_ORG_IDS", "org-1")
    resources = build_definitions().resources
    assert "secret-token-value" not in repr(resources["circleci"])
    assert isinstance(resources["circleci"].token, dg.EnvVar)
