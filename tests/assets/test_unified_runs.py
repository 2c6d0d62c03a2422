"""int_ci_runs / int_ci_jobs with all three providers pulled from their simulators.

Counts per provider must equal what the simulators served; statuses all map; repos and orgs are
named as people know them, with each repo's default branch from its provider's API.
"""

from __future__ import annotations

import shutil
from datetime import date, datetime, timezone
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from ciwatch_etl.assets import circleci_api
from ciwatch_etl.assets import sourcecraft as sourcecraft_assets
from ciwatch_etl.assets.circleci_api import circleci_pipeline_history
from ciwatch_etl.assets.circleci_projects import circleci_projects
from ciwatch_etl.assets.circleci_usage import circleci_usage_jobs
from ciwatch_etl.resources import CircleCIResource, GocdnextResource, SourceCraftResource, DataFolderResource
from ciwatch_etl.assets.gocdnext import gocdnext_pull
from ciwatch_etl.assets.sourcecraft import sourcecraft_ci_runs
from ciwatch_etl.assets.sql_models import build_sql_model_assets
from ciwatch_etl.environment import Paths
from ciwatch_etl.simulator.circleci import Simulator
from ciwatch_etl.simulator.gocdnext import GocdnextSimulator
from ciwatch_etl.simulator.sourcecraft import SourceCraftSimulator
from ciwatch_etl.warehouse.build import build_warehouse

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)  # the CircleCI simulator's now for end_date 2026-11-19
GOCDNEXT_NAME = "acme-gocdnext"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> tuple[Path, dict[str, int]]:
    """Pull every simulator's whole history once; return the warehouse and the served counts."""
    home = tmp_path_factory.mktemp("unified")
    with (
        Simulator(end_date=date(2026, 11, 19), days=2) as circleci,
        SourceCraftSimulator(now=NOW, days=10) as sourcecraft,
        GocdnextSimulator(now=NOW, days=10) as gocdnext,
        pytest.MonkeyPatch.context() as monkeypatch,
    ):
        # The CircleCI and SourceCraft assets start a first pull's window from their clock: it must
        # be the simulators' (gocdnext's window starts from its newest run).
        assert circleci.now == NOW
        monkeypatch.setattr(circleci_api, "utc_now", lambda: circleci.now)
        monkeypatch.setattr(sourcecraft_assets, "utc_now", lambda: sourcecraft.now.replace(tzinfo=None))
        resources = {
            "data_folder": DataFolderResource(home=str(home)),
            "circleci": CircleCIResource(
                token=circleci.token, api_url=circleci.circleci_api_url, project_slugs=",".join(circleci.project_slugs)
            ),
            "sourcecraft": SourceCraftResource(
                token=sourcecraft.token, api_url=sourcecraft.api_url, repo_ids=",".join(sourcecraft.repo_ids),
                initial_days=400,
            ),
            "gocdnext": GocdnextResource(url=gocdnext.url, token=gocdnext.token, initial_days=400, name=GOCDNEXT_NAME),
        }
        result = dg.materialize(
            [circleci_usage_jobs, circleci_pipeline_history, circleci_projects, sourcecraft_ci_runs, gocdnext_pull,
             build_sql_model_assets()],
            resources=resources,
            selection="not key:circleci_usage_jobs",
            run_config={"ops": {"circleci_pipeline_history": {"config": {"history_days": 10, "job_details": False}}}},
        )
        assert result.success
        served = {
            "circleci": _circleci_workflows(circleci),
            "sourcecraft": sum(
                len(run.get("workflows", [])) for repo in sourcecraft.repo_ids
                for run in _listable(sourcecraft, repo)
            ),
            "gocdnext": len(gocdnext.expected_run_ids()),
        }
        sourcecraft_ids = set(sourcecraft.repo_ids)
    return home / "warehouse.duckdb", served | {"sourcecraft_ids": sourcecraft_ids}


def _listable(sourcecraft: SourceCraftSimulator, repo: str) -> list[dict]:
    try:
        return sourcecraft.expected_runs(repo)
    except KeyError:
        return []


def _circleci_workflows(sim: Simulator) -> int:
    now = sim.now.replace(tzinfo=None) if sim.now.tzinfo else sim.now
    count = 0
    for org in sim.world.orgs:
        for project in org.projects:
            pipelines = [p for day in sim.world.dates for p in sim.world.pipelines(project, day)]
            pipelines += sim.world.pipelines_of_next_day(project)
            count += sum(
                1 for p in pipelines for w in p.workflows
                if (w.created_at.replace(tzinfo=None) if w.created_at.tzinfo else w.created_at) <= now
            )
    return count


def test_int_ci_runs_counts_per_provider_equal_what_the_simulators_served(warehouse):
    path, served = warehouse
    with duckdb.connect(str(path), read_only=True) as con:
        counts = dict(con.execute("select provider, count(*) from int_ci_runs group by provider").fetchall())
    assert counts == {k: v for k, v in served.items() if k != "sourcecraft_ids"}
    assert all(n > 0 for n in counts.values())


def test_every_status_is_mapped_and_nothing_is_dropped(warehouse):
    path, _ = warehouse
    with duckdb.connect(str(path), read_only=True) as con:
        unmapped = con.execute("select count(*) from int_ci_runs where not is_status_mapped").fetchone()[0]
        jobs = dict(con.execute("select provider, count(*) from int_ci_jobs group by provider").fetchall())
        staged = con.execute(
            "select (select count(*) from stg_circleci__jobs), (select count(*) from stg_sourcecraft__tasks),"
            " (select count(*) from stg_gocdnext__jobs)"
        ).fetchone()
        statuses = {s for (s,) in con.execute("select distinct status from int_ci_runs").fetchall()}
    assert unmapped == 0
    assert (jobs["circleci"], jobs["sourcecraft"], jobs["gocdnext"]) == staged
    assert {"success", "failed", "canceled"} <= statuses


def test_an_unknown_status_becomes_other_and_fails_the_check(warehouse, tmp_path):
    path, _ = warehouse
    home = tmp_path / "home"
    shutil.copytree(path.parent / "lake", home / "lake")
    partition = sorted((home / "lake").glob("gocdnext/runs/*/data.parquet"))[-1]
    changed = tmp_path / "changed.parquet"
    duckdb.execute(
        f"copy (select * replace (case when row_number() over () = 1 then 'exploded' else status end as status)"
        f" from read_parquet('{partition}')) to '{changed}' (format parquet)"
    )
    shutil.move(changed, partition)
    report = build_warehouse(Paths(home), 0.0006)
    check = next(t for t in report.model("int_ci_runs").tests if t.name.endswith("every_status_mapped"))
    assert (check.passed, check.failing_rows) == (False, 1)
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        other = con.execute("select source_status from int_ci_runs where status = 'other'").fetchall()
        total = con.execute("select count(*) from int_ci_runs").fetchone()[0]
    with duckdb.connect(str(path), read_only=True) as con:
        assert total == con.execute("select count(*) from int_ci_runs").fetchone()[0]
    assert other == [("exploded",)]


def test_repos_and_orgs_are_named_as_people_know_them_everywhere(warehouse):
    """SourceCraft by its repositories' slugs and organization (not their ids and '(none)'),
    gocdnext by its server's name (not 127.0.0.1); the ids stay in repo_id."""
    path, served = warehouse
    with duckdb.connect(str(path), read_only=True) as con:
        runs = set(con.execute("select provider, org, repo, repo_id from int_ci_runs "
                               "where provider <> 'circleci' group by all").fetchall())
        jobs = set(con.execute("select provider, org, repo from int_ci_jobs where provider <> 'circleci' "
                               "group by all").fetchall())
        marts = {
            mart: set(con.execute(f"select provider, org, repo from {mart} where provider <> 'circleci' "
                                  "group by all").fetchall())
            for mart in ("mart_cost_breakdown", "mart_ci_performance_daily", "fct_ci_runs")
        }
    sourcecraft = {(org, repo, repo_id) for provider, org, repo, repo_id in runs if provider == "sourcecraft"}
    assert {(org, repo) for org, repo, _ in sourcecraft} == {("acme", "payments-api"), ("acme", "web-console"),
                                                               ("acme", "infra-live")}
    assert {repo_id for _, _, repo_id in sourcecraft} == served["sourcecraft_ids"]
    gocdnext = {(org, repo) for provider, org, repo, _ in runs if provider == "gocdnext"}
    assert {org for org, _ in gocdnext} == {GOCDNEXT_NAME} and "payments-api" in {repo for _, repo in gocdnext}
    named = {(provider, org, repo) for provider, org, repo, _ in runs}
    assert jobs == named
    for mart, rows in marts.items():
        assert rows and rows <= named, mart  # no id, no host, no '(none)'


def test_each_repo_gets_the_default_branch_its_api_reports(warehouse):
    path, _ = warehouse
    with duckdb.connect(str(path), read_only=True) as con:
        repos = {(provider, repo): (branch, source, shown) for provider, repo, branch, source, shown in con.execute(
            "select provider, repo, default_branch, default_branch_source, repo_display_name "
            "from int_repos_configured").fetchall()}
        master_runs = con.execute(
            "select count(*), count(*) filter (where is_default_branch) from fct_ci_runs "
            "where provider = 'circleci' and repo = 'ml-ranking' and branch = 'master'").fetchone()
    assert repos[("circleci", "ml-ranking")] == ("master", "api", "ml-ranking")
    assert repos[("circleci", "api-gateway")] == ("main", "api", "api-gateway")
    assert repos[("sourcecraft", "infra-live")] == ("master", "api", "infra-live")
    assert repos[("sourcecraft", "payments-api")] == ("main", "api", "Payments API")
    assert repos[("gocdnext", "payments-api")] == ("main", "api", "Payments API")
    assert repos[("gocdnext", "docs-portal")] == ("main", "builtin", "Docs Portal")  # no repository bound
    assert master_runs[0] > 0 and master_runs[0] == master_runs[1]
