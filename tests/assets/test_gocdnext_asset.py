"""The gocdnext pull through Dagster into a lake in tmp_path, twice, then the staging models."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb

from ciwatch_etl.assets.gocdnext import gocdnext_pull
from ciwatch_etl.resources import GocdnextResource, DataFolderResource
from ciwatch_etl.environment import Paths
from ciwatch_etl.simulator.gocdnext import GocdnextSimulator
from ciwatch_etl.warehouse.build import build_warehouse

NOW = datetime(2026, 5, 12, 15, 30, tzinfo=UTC)
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
OPEN = ("queued", "running", "waiting")


def materialize(sim: GocdnextSimulator, home: Path, **options) -> dict[str, dict[str, object]]:
    resources = {
        "gocdnext": GocdnextResource(url=sim.url, token=sim.token, **options),
        "data_folder": DataFolderResource(home=str(home)),
    }
    result = dg.materialize([gocdnext_pull], resources=resources, run_config=QUIET)
    assert result.success
    return {
        event.step_materialization_data.materialization.asset_key.to_user_string(): {
            k: v.value for k, v in event.step_materialization_data.materialization.metadata.items()
        }
        for event in result.get_asset_materialization_events()
    }


def lake_rows(home: Path, table: str, columns: str) -> list[tuple]:
    return duckdb.sql(
        f"select {columns} from read_parquet('{home}/lake/gocdnext/{table}/*/*.parquet', hive_partitioning = false)"
    ).fetchall()


def test_skipped_with_one_line_when_not_configured(tmp_path: Path):
    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize(
            [gocdnext_pull],
            instance=instance,
            resources={"gocdnext": GocdnextResource(token="gcn_x"), "data_folder": DataFolderResource(home=str(tmp_path))},
        )
        messages = [e.user_message for e in instance.all_logs(result.run_id) if "skipped" in e.user_message]
        stored = instance.fetch_materializations(dg.AssetKey("gocdnext_runs"), limit=10).records
    assert result.success
    # A skip, not a success with nothing in it: no table of the four is materialized.
    assert result.get_asset_materialization_events() == [] and stored == []
    assert messages == ["gocdnext skipped: GOCDNEXT_URL not set"]
    assert not (tmp_path / "lake").exists()


def test_two_pulls_land_every_run_once_and_update_unfinished_ones(tmp_path: Path):
    home = tmp_path / "home"
    with GocdnextSimulator(now=NOW, days=10) as sim:
        first = materialize(sim, home)
        expected = sim.expected_statuses()
        assert first["gocdnext_runs"]["rows_landed_new"] == len(expected)
        landed = dict(lake_rows(home, "runs", "run_id, status"))
        assert landed == expected and {"queued", "running", "waiting"} <= set(landed.values())

        sim.advance(1)
        sim.faults.insert_runs_while_paging(times=2, runs_per_page=3)  # runs created while the pull pages
        second = materialize(sim, home, page_size=40)
        assert sim.faults.pending() == {}
        expected = sim.expected_statuses()
        runs = lake_rows(home, "runs", "run_id, status")
        assert len(runs) == len({run_id for run_id, _ in runs})  # no duplicates
        assert dict(runs) == expected  # new runs in, previously unfinished runs updated
        assert all(expected[run_id] not in OPEN for run_id, status in landed.items() if status in OPEN)
        meta = second["gocdnext_runs"]
        assert meta["rows_landed_changed"] >= sum(status in OPEN for status in landed.values())
        assert meta["finished_runs_unchanged"] > 0 and meta["details_fetched"] < len(expected)
        for table, ids in (("stages", sim.expected_stage_ids()), ("jobs", sim.expected_job_ids())):
            rows = [row_id for (row_id,) in lake_rows(home, table, f"{table[:-1]}_id")]
            assert len(rows) == len(set(rows)) and set(rows) == ids

        third = materialize(sim, home)  # nothing new: nothing changes
        assert third["gocdnext_runs"]["rows_landed_new"] == third["gocdnext_runs"]["rows_landed_changed"] == 0
        assert third["gocdnext_jobs"]["rows_landed_new"] == third["gocdnext_jobs"]["rows_landed_changed"] == 0


def test_stages_and_jobs_share_their_runs_partition_and_computed_times(tmp_path: Path):
    with GocdnextSimulator(now=NOW, days=3) as sim:
        materialize(sim, tmp_path)
    runs = {r[0]: r[1:] for r in lake_rows(tmp_path, "runs", "run_id, created_date, created_at, started_at, "
                                                              "finished_at, duration_seconds, queue_seconds")}
    for created_date, created, started, finished, duration, queue in runs.values():
        assert created_date == created.date()
        assert duration == (None if started is None or finished is None else (finished - started).total_seconds())
        assert queue == (None if started is None else (started - created).total_seconds())
    jobs = lake_rows(tmp_path, "jobs", "run_id, run_created_date, attempt, exit_code, status")
    assert all(run_created_date == runs[run_id][0] for run_id, run_created_date, _, _, _ in jobs)
    assert any(attempt > 0 for _, _, attempt, _, _ in jobs)
    assert {status for _, _, _, exit_code, status in jobs if exit_code is not None} == {"success", "failed"}
    stages = lake_rows(tmp_path, "stages", "run_id, run_created_date")
    assert all(run_created_date == runs[run_id][0] for run_id, run_created_date in stages)


def test_a_bad_run_is_quarantined_by_itself_and_cleared_when_fixed(tmp_path: Path):
    with GocdnextSimulator(now=NOW, days=2) as sim:
        run = next(r for r in sim.world.visible_runs() if r.status == "success" and r.finished_at < sim.now)
        good_start = run.started_at
        run.started_at = run.finished_at + timedelta(minutes=5)  # the server sends a run that ends before it starts
        first = materialize(sim, tmp_path)
        assert first["gocdnext_runs"]["rows_quarantined"] == 1
        quarantine = duckdb.sql(
            f"select source_file, reason from read_parquet('{tmp_path}/lake/_quarantine/gocdnext_runs/*.parquet')"
        ).fetchall()
        assert quarantine[0][0] == f"GET /api/v1/runs/{run.id}?logs=0" and "duration_seconds" in quarantine[0][1]
        assert (tmp_path / "lake/_quarantine/gocdnext_runs" / f"run-{run.id}.parquet").exists()
        assert run.id not in {r for (r,) in lake_rows(tmp_path, "runs", "run_id")}

        run.started_at = good_start
        materialize(sim, tmp_path)
        assert not (tmp_path / "lake/_quarantine/gocdnext_runs" / f"run-{run.id}.parquet").exists()
        assert run.id in {r for (r,) in lake_rows(tmp_path, "runs", "run_id")}


def test_staging_models_build_from_the_pulled_lake(tmp_path: Path):
    with GocdnextSimulator(now=NOW, days=4) as sim:
        materialize(sim, tmp_path)
        expected = sim.expected_statuses()
    report = build_warehouse(Paths(tmp_path), 0.0006)
    gocdnext_models = {m.name: m for m in report.models if m.name.startswith("stg_gocdnext__")}
    assert set(gocdnext_models) == {"stg_gocdnext__runs", "stg_gocdnext__stages", "stg_gocdnext__jobs",
                                    "stg_gocdnext__projects"}
    failed = [(m.name, t.name) for m in gocdnext_models.values() for t in m.tests if not t.passed]
    assert failed == []
    with duckdb.connect(str(Paths(tmp_path).warehouse), read_only=True) as con:
        runs = con.execute(
            "select run_id, run_status, provider, server_host, repo, branch, commit_sha, trigger_cause, duration_seconds, "
            "date_diff('microsecond', started_at, finished_at) / 1e6 from stg_gocdnext__runs"
        ).fetchall()
        projects = {row[0]: row[1:] for row in con.execute(
            "select repo, server_host, org, default_branch from stg_gocdnext__projects").fetchall()}
        jobs = con.execute(
            "select count(*) filter (where is_retried), count(*) filter (where is_approval_gate), "
            "count(*) filter (where job_status = 'awaiting_approval') from stg_gocdnext__jobs"
        ).fetchone()
    assert {r[0]: r[1] for r in runs} == expected
    # Runs name their server by address; its name (the marts' org) is the projects' (no GOCDNEXT_NAME here).
    assert {(r[2], r[3]) for r in runs} == {("gocdnext", "127.0.0.1")}
    assert {r[4] for r in runs} == {"storefront", "payments-api", "platform-infra", "mobile-app", "docs-portal"}
    assert projects == {slug: ("127.0.0.1", "127.0.0.1", None if slug == "docs-portal" else "main")
                        for slug in {r[4] for r in runs}}  # docs-portal has no repository bound
    assert all(r[8] == r[9] for r in runs)
    tag_runs = [r for r in runs if r[7] == "tag"]
    assert all(r[5] is None and len(r[6]) == 40 for r in tag_runs)
    assert all(r[5] is not None and len(r[6]) == 40 for r in runs if r[7] in ("webhook", "upstream", "schedule"))
    assert jobs[0] > 0 and jobs[1] > 0 and jobs[2] >= 1
