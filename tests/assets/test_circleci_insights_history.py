"""Insights through Dagster against the simulator: what Insights forgets stays in the lake.

Pull 30 days, let 30 simulated nights pass with a 30-day Insights window (so Insights has
forgotten every run of the first pull), pull again: the first pull's rows are still there,
byte for byte, nothing is duplicated, and the warehouse shows both periods.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from ciwatch_etl.assets import circleci_api
from ciwatch_etl.assets.circleci_api import circleci_insights
from ciwatch_etl.resources import CircleCIResource, DataFolderResource
from ciwatch_etl.schemas.raw_table import RawTable
from ciwatch_etl.schemas import circleci_insights as insights
from ciwatch_etl.environment import Paths
from ciwatch_etl.simulator.circleci import Simulator
from ciwatch_etl.sources.circleci.insights import InsightsWindow
from ciwatch_etl.warehouse.build import build_warehouse

PROJECTS = 2
END = date(2025, 7, 8)  # a Tuesday: fixed, so run counts do not depend on the day the tests run
RUN_CONFIG = {"ops": {"circleci_insights": {"config": {"history_days": 30, "retry_backoff_seconds": 0.01}}}}


def lake_rows(lake: Path, table: RawTable) -> dict[tuple, tuple]:
    """Every row of a raw table in the lake (all columns), by key."""
    files = sorted(str(p) for p in table.directory(lake).glob("*/data.parquet"))
    columns = [name for name, _ in table.columns]
    with duckdb.connect() as con:
        rows = con.execute(
            f"select {', '.join(columns)} from read_parquet($1, hive_partitioning = false)", [files]
        ).fetchall()
    key = [columns.index(k) for k in table.key]
    by_key = {tuple(row[i] for i in key): row for row in rows}
    assert len(by_key) == len(rows), f"duplicated keys in {table.name}"
    return by_key


def pull(sim: Simulator, home: Path) -> dict[str, dict]:
    resources = {
        "circleci": CircleCIResource(
            token=sim.token, api_url=sim.circleci_api_url, project_slugs=",".join(sim.project_slugs[:PROJECTS])
        ),
        "data_folder": DataFolderResource(home=str(home)),
    }
    result = dg.materialize([circleci_insights], resources=resources, run_config=RUN_CONFIG)
    assert result.success
    return {
        m.asset_key.path[-1]: {k: v.value for k, v in m.metadata.items()}
        for m in result.asset_materializations_for_node("circleci_insights")
    }


def test_thirty_days_then_thirty_more_keeps_the_first_thirty(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    home = tmp_path / "home"
    lake = Paths(home).lake
    with Simulator(end_date=END, days=45, insights_retention_days=30) as sim:
        monkeypatch.setattr(circleci_api, "utc_now", lambda: sim.now)
        first_now = sim.now

        first = pull(sim, home)
        runs_1 = lake_rows(lake, insights.WORKFLOW_RUNS.table)
        series_1 = lake_rows(lake, insights.JOB_TIMESERIES.table)
        metrics_1 = lake_rows(lake, insights.WORKFLOW_METRICS.table)

        sim.advance(30)
        second = pull(sim, home)
        runs_2 = lake_rows(lake, insights.WORKFLOW_RUNS.table)
        series_2 = lake_rows(lake, insights.JOB_TIMESERIES.table)
        metrics_2 = lake_rows(lake, insights.WORKFLOW_METRICS.table)
        oldest_kept_by_insights = sim.now - timedelta(days=30)

    # the first pull covered 30 days, and Insights has since forgotten all of them
    columns = [c for c, _ in insights.WORKFLOW_RUNS.table.columns]
    created = [row[columns.index("created_date")] for row in runs_1.values()]
    assert min(created) == (first_now - timedelta(days=30)).date()
    assert max(created) < oldest_kept_by_insights.date()
    assert first["circleci_insights_workflow_runs"]["rows_landed_new"] == len(runs_1) > 300
    assert first["circleci_insights_workflow_runs"]["failed_requests"] == 0

    # every finished run of the first pull is still there, unchanged to the byte (bookkeeping too)
    status = columns.index("status")
    finished_1 = {k: row for k, row in runs_1.items() if row[status] is not None}
    assert len(finished_1) >= len(runs_1) - 10  # only the few running at 02:00 were unfinished
    assert {k: runs_2[k] for k in finished_1} == finished_1
    # runs in progress at the first pull were too recent to be forgotten: the lookback updated them
    assert all(runs_2[k][status] is not None for k in runs_1)
    # the second pull added the new 30 days, and no key twice (lake_rows checks uniqueness)
    assert len(runs_2) > len(runs_1) + 300
    assert second["circleci_insights_workflow_runs"]["rows_landed_new"] == len(runs_2) - len(runs_1)

    # finished days of the time series stay as they were; snapshots of both days are kept
    done = {k: v for k, v in series_1.items() if k[3].date() < first_now.date()}  # k[3]: interval_start_at
    assert done and {k: series_2[k] for k in done} == done
    snapshot_days = {k[2] for k in metrics_2}
    assert snapshot_days == {first_now.date(), (first_now + timedelta(days=30)).date()}
    assert {k: metrics_2[k] for k in metrics_1} == metrics_1

    # the warehouse shows both periods, each run once
    paths = Paths(home)
    report = build_warehouse(paths, 0.0006)
    failing = [(m.name, t.name) for m in report.models for t in m.tests if not t.passed]
    assert [f for f in failing if "insights" in f[0]] == []
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        total, distinct, oldest = con.execute(
            "select count(*), count(distinct workflow_id), min(created_date) from stg_circleci__insights_workflow_runs"
        ).fetchone()
    assert total == distinct == len(runs_2)
    assert oldest == (first_now - timedelta(days=30)).date() < date.fromisoformat(str(oldest_kept_by_insights.date()))


def test_next_night_reads_back_only_the_lookback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    home = tmp_path / "home"
    with Simulator(end_date=END, days=10) as sim:
        monkeypatch.setattr(circleci_api, "utc_now", lambda: sim.now)
        pull(sim, home)
        newest = max(row[6] for row in lake_rows(Paths(home).lake, insights.WORKFLOW_RUNS.table).values())
        sim.advance(1)
        sim.requests.clear()
        second = pull(sim, home)
        asked = {r.query for r in sim.requests if r.path.endswith("/workflows/build-and-test")}

    # the high-water mark (newest run created) minus the 3-day lookback, per project
    start = (newest - timedelta(days=3)).strftime("%Y-%m-%dT%H%%3A%M%%3A%SZ")
    assert any(f"start-date={start}" in query for query in asked), (start, asked)
    runs = second["circleci_insights_workflow_runs"]
    assert runs["rows_unchanged"] > 50 and runs["rows_landed_new"] > 20
    assert runs["rows_read"] == runs["rows_unchanged"] + runs["rows_landed_new"] + runs["rows_landed_changed"]


NOW = datetime(2025, 7, 9, 2, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("high_water", "unfinished_since", "start"),
    [
        (None, None, datetime(2025, 6, 9, 2, 0)),  # first pull: history_days (30)
        (datetime(2025, 7, 8, 23, 0), None, datetime(2025, 7, 5, 23, 0)),  # the mark minus the 3-day lookback
        (datetime(2025, 7, 8, 23, 0), datetime(2025, 7, 1, 8, 0), datetime(2025, 7, 1, 8, 0)),  # a run in progress
        (datetime(2025, 3, 1), None, datetime(2025, 4, 10, 3, 0)),  # never before what Insights keeps (90 days)
    ],
)
def test_where_a_runs_listing_starts(high_water, unfinished_since, start):
    window = InsightsWindow(NOW, history_days=30, lookback_days=3)
    assert window.start(high_water, unfinished_since) == start.replace(tzinfo=timezone.utc)
