"""The `circleci_usage_jobs` asset: counts that add up in its metadata, and its flagged-rows check.

The CircleCI client is replaced by one that "downloads" fixture files, so the asset lands exactly
tests/fixtures/usage/utilisation.csv (one of two rows flagged) and malformed.csv (one of two
records quarantined).
"""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import dagster as dg
import pytest

from ciwatch_etl.assets import circleci_usage
from ciwatch_etl.assets.circleci_usage import circleci_usage_jobs
from ciwatch_etl.resources import CircleCIResource, DataFolderResource
from ciwatch_etl.sources.circleci.usage_export import DownloadedFile
from usage_landing import FIXTURES


class _FixtureClient:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def export_usage(self, org_id: str, start: datetime, end: datetime, dest: Path) -> list[DownloadedFile]:
        dest.mkdir(parents=True, exist_ok=True)
        files = []
        for name in ("utilisation.csv", "malformed.csv"):
            shutil.copy(FIXTURES / name, dest / name)
            files.append(DownloadedFile(dest / name, f"{org_id}-{name}"))
        return files


@pytest.fixture
def result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dg.ExecuteInProcessResult:
    monkeypatch.setattr(circleci_usage.CircleCIResource, "usage_client", lambda self: _FixtureClient())
    return dg.materialize(
        [circleci_usage_jobs],
        resources={
            "data_folder": DataFolderResource(home=str(tmp_path / "home")),
            "circleci": CircleCIResource(token="t", org_ids="org-1"),
        },
        partition_key="2025-08-01",
    )


def test_metadata_counts_add_up(result: dg.ExecuteInProcessResult):
    [event] = result.get_asset_materialization_events()
    meta = {k: v.value for k, v in event.step_materialization_data.materialization.metadata.items()}
    assert (meta["rows_read"], meta["rows_landed"], meta["rows_quarantined"], meta["rows_flagged"]) == (4, 3, 1, 1)
    assert meta["rows_read"] == meta["rows_landed"] + meta["rows_quarantined"]
    landed = meta["rows_landed_new"] + meta["rows_landed_changed"] + meta["rows_unchanged"] + meta["rows_superseded"]
    assert landed == meta["rows_landed"]


def test_flagged_rows_check_warns_with_the_count(result: dg.ExecuteInProcessResult):
    [evaluation] = result.get_asset_check_evaluations()
    assert (evaluation.check_name, evaluation.passed, evaluation.severity) == (
        "no_flagged_rows", False, dg.AssetCheckSeverity.WARN,
    )
    meta = {k: v.value for k, v in evaluation.metadata.items()}
    assert meta["rows_flagged"] == 1
    assert meta["flags_by_rule"] == {"MAX_CPU_UTILIZATION_PCT: in_range(0, 100)": 1}
    assert result.success  # a warning, not a failure


def test_a_skipped_pull_materializes_nothing_and_checks_nothing(tmp_path: Path):
    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize(
            [circleci_usage_jobs],
            resources={"data_folder": DataFolderResource(home=str(tmp_path)), "circleci": CircleCIResource()},
            partition_key="2025-08-01",
            instance=instance,
        )
        materialized = instance.get_materialized_partitions(dg.AssetKey("circleci_usage_jobs"))
    assert result.success
    assert result.get_asset_materialization_events() == [] and result.get_asset_check_evaluations() == []
    assert materialized == set()  # the partition stays missing
