"""The demo's Dagster instance: what it writes is what `dagster dev` (a fresh instance on the same
folder) reads, while the demo still holds it open and after; its dagster.yaml is the demo's own."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from ciwatch_etl.demo_instance import DemoEventLogStorage, demo_instance

DAYS = dg.DailyPartitionsDefinition(start_date="2026-11-01", end_date="2026-11-04")


@dg.asset(partitions_def=DAYS)
def day_rows() -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"rows": 3})


@dg.asset_check(asset=day_rows)
def day_rows_not_empty() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True)


def _materialize_three_days(instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [day_rows, day_rows_not_empty], instance=instance,
        tags={"dagster/asset_partition_range_start": "2026-11-01",
              "dagster/asset_partition_range_end": "2026-11-03"},
    )


def test_dagster_dev_reads_the_run_while_the_demo_holds_the_instance_and_after(tmp_path: Path):
    home = tmp_path / "home"
    with demo_instance(home) as instance:
        assert isinstance(instance.event_log_storage, DemoEventLogStorage)
        run_id = _materialize_three_days(instance).run_id
        with dg.DagsterInstance.from_config(str(home / "dagster")) as viewer:  # the demo still open
            assert viewer.get_run_by_id(run_id).status == dg.DagsterRunStatus.SUCCESS
            assert viewer.get_materialized_partitions(day_rows.key) == {"2026-11-01", "2026-11-02", "2026-11-03"}
    with dg.DagsterInstance.from_config(str(home / "dagster")) as viewer:
        [run] = viewer.get_runs()
        checks = viewer.event_log_storage.get_latest_asset_check_execution_by_key(
            [dg.AssetCheckKey(day_rows.key, "day_rows_not_empty")])
        events = viewer.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION)
    assert run.run_id == run_id
    assert [e.status.value for e in checks.values()] == ["SUCCEEDED"]
    assert sorted(e.dagster_event.partition for e in events) == ["2026-11-01", "2026-11-02", "2026-11-03"]


def test_a_second_demo_run_adds_to_the_first(tmp_path: Path):
    home = tmp_path / "home"
    for _ in range(2):
        with demo_instance(home) as instance:
            _materialize_three_days(instance)
    with dg.DagsterInstance.from_config(str(home / "dagster")) as viewer:
        assert len(viewer.get_runs()) == 2
        assert len(viewer.fetch_materializations(day_rows.key, limit=10).records) == 6


def test_commits_reach_the_wal_without_an_fsync(tmp_path: Path):
    with demo_instance(tmp_path / "home") as instance:
        run_id = _materialize_three_days(instance).run_id
        storage = instance.event_log_storage
        for connect in (storage.index_connection, lambda: storage.run_connection(run_id)):
            with connect() as connection:
                assert connection.exec_driver_sql("pragma journal_mode").scalar() == "wal"
                assert connection.exec_driver_sql("pragma synchronous").scalar() == 1  # normal


def test_wiping_the_instance_leaves_no_run_behind(tmp_path: Path):
    with demo_instance(tmp_path / "home") as instance:
        _materialize_three_days(instance)
        instance.wipe()
        assert instance.get_runs() == []
        assert instance.get_materialized_partitions(day_rows.key) == set()
        _materialize_three_days(instance)  # the wiped files are created again
        assert len(instance.get_materialized_partitions(day_rows.key)) == 3


@pytest.mark.parametrize("written_by", ["an older demo", "the user"])
def test_the_demo_rewrites_its_own_dagster_yaml_and_keeps_the_users(tmp_path: Path, written_by: str):
    config = tmp_path / "home" / "dagster" / "dagster.yaml"
    config.parent.mkdir(parents=True)
    before = ("# The ciwatch-etl demo's Dagster instance (sqlite storage in this folder).\n"
              if written_by == "an older demo" else "# mine\n") + "telemetry:\n  enabled: false\n"
    config.write_text(before)
    with demo_instance(tmp_path / "home") as instance:
        fast = isinstance(instance.event_log_storage, DemoEventLogStorage)
    assert fast == (written_by == "an older demo")
    assert (config.read_text() == before) == (written_by == "the user")


def test_a_folder_with_yaml_characters_in_its_name_is_read_back(tmp_path: Path):
    home = tmp_path / "demo: #1 \"quoted\""
    with demo_instance(home) as instance:
        _materialize_three_days(instance)
    assert (home / "dagster" / "history" / "runs" / "index.db").is_file()
