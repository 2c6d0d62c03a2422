"""CircleCI projects: the client and the asset against the simulator over HTTP, and the recorded
project (DevLake's real `GET /project/...` response, default branch `master`) as a row."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb

from ciwatch_etl.assets.circleci_projects import circleci_projects
from ciwatch_etl.landing.json_batches import batches_by_table
from ciwatch_etl.resources import CircleCIResource, DataFolderResource
from ciwatch_etl.schemas.circleci_projects import PROJECTS
from ciwatch_etl.environment import Paths
from ciwatch_etl.simulator.circleci import Simulator
from ciwatch_etl.sources.circleci.projects import CircleCIProjectsClient, pull_projects

END = date(2025, 7, 8)
MASTER = "bb/globex-labs/ml-ranking"
MAIN = "gh/acme-robotics/api-gateway"
UNKNOWN = "gh/acme-robotics/retired-service"
COLUMNS = "project_slug, project_name, organization_name, vcs_provider, default_branch"


def test_the_recorded_project_becomes_a_row(refs_dir: Path):
    fixture = refs_dir / "circleci/fixtures/devlake-circleci-e2e/extracted/_raw_circleci_api_projects.json"
    recorded = json.loads(fixture.read_text())[0]["data"]
    row = PROJECTS.frame([recorded]).row(0, named=True)
    assert (row["project_slug"], row["project_name"], row["organization_name"], row["default_branch"]) == (
        "gh/coldgust/coldgust.github.io", "coldgust.github.io", "coldgust", "master")
    assert row["project_id"] == "918df292-936a-41b2-8174-696c6cdd6cf5" and row["_parse_errors"] is None


def test_the_client_reads_each_project_and_skips_one_circleci_does_not_know():
    with Simulator(end_date=END, days=3) as sim, CircleCIProjectsClient(sim.token, sim.circleci_api_url) as client:
        assert client.project(MASTER)["vcs_info"]["default_branch"] == "master"
        pull = pull_projects(client, [MASTER, UNKNOWN, MAIN])
    assert [(f.project, f.status, f.is_skip) for f in pull.failures] == [(UNKNOWN, 404, True)]
    assert pull.errors == []
    (batch,) = batches_by_table(pull.items, [PROJECTS])[PROJECTS.name]
    assert batch.frame.select("project_slug", "default_branch").rows() == [(MASTER, "master"), (MAIN, "main")]
    assert batch.source.name == "GET project/{project-slug}"


def _materialize(sim: Simulator, home: Path, slugs: str, token: str | None) -> dg.ExecuteInProcessResult:
    resources = {
        "circleci": CircleCIResource(token=token, api_url=sim.circleci_api_url, project_slugs=slugs),
        "data_folder": DataFolderResource(home=str(home)),
    }
    return dg.materialize([circleci_projects], resources=resources, raise_on_error=False)


def _landed(home: Path) -> list[tuple]:
    path = PROJECTS.table.partition_file(Paths(home).lake, None)
    return duckdb.sql(f"select {COLUMNS} from read_parquet('{path}') order by 1").fetchall()


def test_the_asset_lands_a_dimension_that_a_second_pull_leaves_alone(tmp_path: Path):
    home = tmp_path / "home"
    with Simulator(end_date=END, days=3) as sim:
        first = _materialize(sim, home, f"{MASTER},{MAIN},{UNKNOWN}", sim.token)
        assert first.success
        written = PROJECTS.table.partition_file(Paths(home).lake, None).stat().st_mtime_ns
        again = _materialize(sim, home, f"{MASTER},{MAIN}", sim.token)
        skipped = _materialize(sim, tmp_path / "unconfigured", MASTER, None)
    assert _landed(home) == [
        (MASTER, "ml-ranking", "globex-labs", "Bitbucket", "master"),
        (MAIN, "api-gateway", "acme-robotics", "GitHub", "main"),
    ]
    metadata = again.asset_materializations_for_node("circleci_projects")[0].metadata
    assert (metadata["rows_unchanged"].value, metadata["partitions_written"].value) == (2, 0)
    assert PROJECTS.table.partition_file(Paths(home).lake, None).stat().st_mtime_ns == written
    assert skipped.success and not (tmp_path / "unconfigured" / "lake").exists()
    assert skipped.asset_materializations_for_node("circleci_projects") == []  # a skip materializes nothing
