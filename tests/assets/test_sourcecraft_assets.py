"""The SourceCraft assets materialized against the simulator into tmp_path, then the staging models."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from ciwatch_etl.assets import sourcecraft as sourcecraft_assets
from ciwatch_etl.assets.sourcecraft import pull_start, sourcecraft_ci_runs
from ciwatch_etl.resources import SourceCraftResource, DataFolderResource
from ciwatch_etl.schemas.sourcecraft import SOURCECRAFT_TABLES
from ciwatch_etl.schemas.sourcecraft_repos import REPOS
from ciwatch_etl.environment import Paths
from ciwatch_etl.simulator.sourcecraft import SourceCraftSimulator
from ciwatch_etl.warehouse.build import build_warehouse
from ciwatch_etl.warehouse.models import default_models_dir, load_models

TABLES = [t.name for t in SOURCECRAFT_TABLES]
UNFINISHED = ("created", "prepared", "processing")
# The simulator's history, and so which page each run lands on, follows from its clock: a fixed
# one keeps the results the same on every day and at every hour. At this moment the run stuck for
# days lies well past the last page the second pull lists, so only reading it on its own finds it.
NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


@pytest.fixture
def simulator(monkeypatch: pytest.MonkeyPatch) -> Callable[[int], SourceCraftSimulator]:
    """A simulator at NOW with `days` of history; the asset's clock follows the simulator's."""

    def start(days: int) -> SourceCraftSimulator:
        sim = SourceCraftSimulator(now=NOW, days=days)
        monkeypatch.setattr(sourcecraft_assets, "utc_now", lambda: sim.now.replace(tzinfo=None))
        return sim

    return start


def resources(sim: SourceCraftSimulator, home: Path, repo_ids: list[str] | None = None, **settings) -> dict:
    return {
        "sourcecraft": SourceCraftResource(token=sim.token, api_url=sim.api_url,
                                           repo_ids=",".join(repo_ids or sim.repo_ids), page_size=30,
                                           initial_days=7, **settings),
        "data_folder": DataFolderResource(home=str(home)),
    }


def lake_rows(home: Path, table: str, columns: str) -> list[tuple]:
    folder = table.removeprefix("sourcecraft_")
    files = sorted((Paths(home).lake / "sourcecraft" / folder).glob("*/data.parquet"))
    return duckdb.execute(f"select {columns} from read_parquet($1, hive_partitioning = false)",
                          [[str(f) for f in files]]).fetchall()


def metadata(result: dg.ExecuteInProcessResult) -> dict[str, dict]:
    return {
        m.asset_key.to_user_string(): {k: v.value for k, v in m.metadata.items()}
        for m in result.asset_materializations_for_node("sourcecraft_ci_runs")
    }


def served(sim: SourceCraftSimulator, since: datetime) -> dict[str, set[tuple]]:
    """Every row the four tables should hold: what the API serves now for runs created since."""
    rows: dict[str, set[tuple]] = {t: set() for t in TABLES}
    for repo_id in sim.repo_ids:
        for run in sim.expected_runs(repo_id, since):
            rows["sourcecraft_runs"].add((repo_id, run["slug"], run["status"]))
            for w in run.get("workflows", []):
                rows["sourcecraft_workflows"].add((repo_id, run["slug"], w["slug"], w["status"]))
                for t in w["tasks"]:
                    rows["sourcecraft_tasks"].add((repo_id, run["slug"], w["slug"], t["slug"], t["status"]))
                    for c in t["cubes"]:
                        rows["sourcecraft_cubes"].add((repo_id, run["slug"], w["slug"], t["slug"], c["slug"],
                                                       c["status"]))
    return rows


def landed(home: Path) -> dict[str, list[tuple]]:
    keys = {
        "sourcecraft_runs": "repo_id, run_slug",
        "sourcecraft_workflows": "repo_id, run_slug, workflow_slug",
        "sourcecraft_tasks": "repo_id, run_slug, workflow_slug, task_slug",
        "sourcecraft_cubes": "repo_id, run_slug, workflow_slug, task_slug, cube_slug",
    }
    return {t: lake_rows(home, t, f"{keys[t]}, status") for t in TABLES}


def test_two_pulls_land_every_served_row_once_and_update_unfinished_runs(tmp_path: Path, simulator):
    home = tmp_path / "home"
    with simulator(12) as sim:
        first = dg.materialize([sourcecraft_ci_runs], resources=resources(sim, home))
        assert first.success
        since = datetime.fromisoformat(next(iter(metadata(first)["sourcecraft_runs"]["pulled_since_utc"].values())))
        assert since == pull_start(None, sim.now.replace(tzinfo=None), 7, 3.0)
        expected = served(sim, since)
        rows = landed(home)
        for table in TABLES:
            assert set(rows[table]) == expected[table] and len(rows[table]) == len(expected[table]), table
        runs_meta = metadata(first)["sourcecraft_runs"]
        assert runs_meta["rows_landed_new"] == len(expected["sourcecraft_runs"]) and runs_meta["repos_failed"] == 0
        unfinished = {(r[0], r[1]) for r in rows["sourcecraft_runs"] if r[2] in UNFINISHED}
        assert len(unfinished) >= 3 * len(UNFINISHED) + 1  # three per repo, and one stuck for days

        sim.advance(1)
        sim.requests.clear()
        second = dg.materialize([sourcecraft_ci_runs], resources=resources(sim, home))

        assert second.success
        expected = served(sim, since)
        rows = landed(home)
        for table in TABLES:
            assert set(rows[table]) == expected[table] and len(rows[table]) == len(expected[table]), table
        statuses = {(r[0], r[1]): r[2] for r in rows["sourcecraft_runs"]}
        assert all(statuses[key] not in UNFINISHED for key in unfinished)
        meta = metadata(second)["sourcecraft_runs"]
        assert meta["runs_reread"] == 1 and meta["rows_landed_changed"] >= len(unfinished)
        reread = [r.path for r in sim.requests if r.path.count("/") == 5]
        assert len(reread) == 1  # the run stuck for days, older than the lookback: read on its own
        # Nothing temporary or secret reaches the lake or the metadata.
        values = lake_rows(home, "sourcecraft_runs", "string_agg(_source_file, ' ')")[0][0]
        assert sim.token not in values and sim.token not in repr(metadata(second))


def test_durations_come_from_the_dates(tmp_path: Path, simulator):
    home = tmp_path / "home"
    with simulator(8) as sim:
        assert dg.materialize([sourcecraft_ci_runs], resources=resources(sim, home)).success
    check = (
        "count(*) filter (where duration_seconds is distinct from "
        "date_diff('microsecond', started_at, finished_at) / 1e6 "
        "or queue_seconds is distinct from date_diff('microsecond', created_at, started_at) / 1e6), "
        "count(duration_seconds)"
    )
    for table in TABLES:
        [(mismatched, with_duration)] = lake_rows(home, table, check)
        assert mismatched == 0 and with_duration > 0, table
    assert lake_rows(home, "sourcecraft_runs", "count(*) filter (where created_date <> created_at::date)") == [(0,)]


def test_a_failing_repo_does_not_cost_the_others_their_runs(tmp_path: Path, simulator):
    home = tmp_path / "home"
    with simulator(8) as sim:
        repos = [sim.repo_ids[0], sim.forbidden_repo_id, sim.repo_ids[1]]
        result = dg.materialize([sourcecraft_ci_runs], resources=resources(sim, home, repos),
                                raise_on_error=False)
        assert not result.success
        (failure,) = [e for e in result.all_events if e.is_step_failure]
        text = str(failure.step_failure_data.user_failure_data.description)
        assert f"SourceCraft repo {sim.forbidden_repo_id}, page 1" in text
        assert "HTTP 403 PermissionDenied" in text and sim.token not in text
        landed_repos = {r[0] for r in lake_rows(home, "sourcecraft_runs", "distinct repo_id")}
        assert landed_repos == {sim.repo_ids[0], sim.repo_ids[1]}


def test_missing_settings_skip_with_one_line(tmp_path: Path):
    home = tmp_path / "home"
    result = dg.materialize(
        [sourcecraft_ci_runs],
        resources={"sourcecraft": SourceCraftResource(), "data_folder": DataFolderResource(home=str(home))},
    )
    assert result.success
    assert metadata(result) == {}  # nothing materialized: the tables stay missing
    assert not (home / "lake").exists()


def test_staging_models_build_on_landed_runs(tmp_path: Path, simulator):
    home = tmp_path / "home"
    models = tmp_path / "models"
    (models / "staging").mkdir(parents=True)
    for path in (default_models_dir() / "staging").glob("stg_sourcecraft__*"):
        shutil.copy(path, models / "staging" / path.name)
    with simulator(8) as sim:
        assert dg.materialize([sourcecraft_ci_runs], resources=resources(sim, home)).success

    report = build_warehouse(Paths(home), 0.0006, models=load_models(models))

    built = {m.name: m for m in report.models}
    assert set(built) == {f"stg_sourcecraft__{t.removeprefix('sourcecraft_')}" for t in [*TABLES, REPOS.name]}
    for table in [*TABLES, REPOS.name]:
        model = built[f"stg_sourcecraft__{table.removeprefix('sourcecraft_')}"]
        assert model.row_count == report.raw_row_counts[table] > 0
        assert [t.name for t in model.tests if not t.passed] == [], model.name
    with duckdb.connect(str(Paths(home).warehouse), read_only=True) as con:
        runs = con.execute(
            "select provider, count(*) filter (where is_restart), count(*) filter (where not is_finished), "
            "count(*) filter (where queue_seconds >= 0) from stg_sourcecraft__runs group by provider"
        ).fetchall()
        needs = con.execute(
            "select needed_tasks from stg_sourcecraft__tasks where task_name = 'deploy-production' limit 1"
        ).fetchone()
    (provider, restarts, unfinished, queued), = runs
    assert provider == "sourcecraft" and restarts > 0 and unfinished >= 3 and queued > 0
    assert needs == (["deploy-staging"],)


@pytest.mark.parametrize(
    ("newest", "expected"),
    [
        (None, datetime(2026, 11, 13)),
        (datetime(2026, 11, 19, 23, 59), datetime(2026, 11, 16)),
        (datetime(2026, 11, 20, 0, 0), datetime(2026, 11, 17)),
    ],
)
def test_pull_starts_at_midnight_of_the_lookback_or_the_first_window(newest, expected):
    assert pull_start(newest, datetime(2026, 11, 20, 14, 0), 7, 3.0) == expected
