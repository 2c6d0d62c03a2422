"""gocdnext project details (GET /api/v1/projects/{slug}): the simulator against the shapes read
from the Go handlers, the client against it over HTTP (404, a bad token), and the pull landing
the projects dimension with the server's name."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb
import httpx
import pytest

from ciwatch_etl.assets.gocdnext import gocdnext_pull
from ciwatch_etl.resources import GocdnextResource, DataFolderResource
from ciwatch_etl.schemas.gocdnext_projects import PROJECTS
from ciwatch_etl.environment import Paths
from ciwatch_etl.simulator.gocdnext import GocdnextSimulator
from ciwatch_etl.sources.gocdnext.client import GocdnextClient
from ciwatch_etl.sources.gocdnext.projects import project_detail, project_details
from ciwatch_etl.sources.http import ApiError, RetryPolicy

NOW = datetime(2026, 5, 12, 15, 30, tzinfo=UTC)
FAST = RetryPolicy(attempts=2, backoff_seconds=0.01, backoff_max_seconds=0.02, retry_after_cap_seconds=1.0)
SLUGS = ["storefront", "payments-api", "platform-infra", "mobile-app", "docs-portal"]


@pytest.fixture(scope="module")
def sim() -> Iterator[GocdnextSimulator]:
    with GocdnextSimulator(now=NOW, days=3) as simulator:
        yield simulator


def test_the_detail_wraps_the_project_with_its_scm_binding_pipelines_and_runs(sim: GocdnextSimulator):
    with httpx.Client(base_url=sim.url + "/api/v1", headers={"Authorization": f"Bearer {sim.token}"}) as api:
        shop = api.get("/projects/storefront", params={"runs": 3}).json()
        unbound = api.get("/projects/docs-portal").json()
        default = api.get("/projects/storefront").json()
        capped = api.get("/projects/storefront", params={"runs": 500}).json()
        bad_runs = api.get("/projects/storefront", params={"runs": 0})
        unknown = api.get("/projects/no-such-project")
        listed = {p["slug"]: p for p in api.get("/projects").json()["projects"]}
    assert list(shop) == ["project", "scm_source", "pipelines", "runs"]  # edges: omitempty, none here
    assert shop["project"] == listed["storefront"]
    assert set(shop["scm_source"]) == {"id", "provider", "url", "default_branch"}
    assert (shop["scm_source"]["provider"], shop["scm_source"]["default_branch"]) == ("github", "main")
    assert [p["name"] for p in shop["pipelines"]] == ["build", "deploy", "nightly"]
    assert all({"id", "name", "definition_version", "updated_at"} <= set(p) for p in shop["pipelines"])
    run_count = listed["storefront"]["run_count"]
    assert (len(shop["runs"]), len(default["runs"]), len(capped["runs"])) == (3, 25, min(100, run_count))
    assert run_count > 25 and shop["runs"] == default["runs"][:3]  # newest first
    assert "scm_source" not in unbound and unbound["project"]["provider"] == "manual"
    assert (bad_runs.status_code, bad_runs.text) == (400, "invalid 'runs' query\n")
    assert (unknown.status_code, unknown.text) == (404, "project not found\n")


def test_the_client_reads_each_detail_and_notes_projects_gone(sim: GocdnextSimulator):
    with GocdnextClient(sim.url, sim.token, policy=FAST) as client:
        assert project_detail(client, "payments-api")["scm_source"]["provider"] == "gitlab"
        assert project_detail(client, "no-such-project") is None
        found = project_details(client, ["payments-api", "no-such-project", "docs-portal"])
    assert [d["project"]["slug"] for d in found.details] == ["payments-api", "docs-portal"]
    assert found.gone == ["no-such-project"]
    with GocdnextClient(sim.url, "gcn_not_the_token", policy=FAST) as wrong:
        with pytest.raises(ApiError) as denied:
            project_detail(wrong, "payments-api")
    assert denied.value.status == 401 and "projects/payments-api" in str(denied.value)
    assert "gcn_not_the_token" not in str(denied.value)


def _pull(sim: GocdnextSimulator, home: Path, **options) -> dict[str, object]:
    resources = {"gocdnext": GocdnextResource(url=sim.url, token=sim.token, **options),
                 "data_folder": DataFolderResource(home=str(home))}
    result = dg.materialize([gocdnext_pull], resources=resources)
    return {k: v.value for k, v in result.asset_materializations_for_node("gocdnext")[-1].metadata.items()}


def _projects(home: Path) -> list[tuple]:
    path = PROJECTS.table.partition_file(Paths(home).lake, None)
    return duckdb.sql(f"select slug, name, server_host, server_name, default_branch from read_parquet('{path}') "
                      "order by slug").fetchall()


def test_the_pull_lands_projects_named_for_the_server_and_rewrites_them_only_on_change(
        sim: GocdnextSimulator, tmp_path: Path):
    named, unnamed = tmp_path / "named", tmp_path / "unnamed"
    first = _pull(sim, named, name="acme-gocdnext")
    written = PROJECTS.table.partition_file(Paths(named).lake, None).stat().st_mtime_ns
    again = _pull(sim, named, name="acme-gocdnext")
    _pull(sim, unnamed)
    rows = _projects(named)
    assert [row[0] for row in rows] == sorted(SLUGS)
    assert {row[2:4] for row in rows} == {("127.0.0.1", "acme-gocdnext")}
    assert {row[0]: row[4] for row in rows} == {slug: None if slug == "docs-portal" else "main" for slug in SLUGS}
    assert ("payments-api", "Payments API") in {row[:2] for row in rows}
    assert (first["rows_landed_new"], first["server_name"], first["projects_gone"]) == (5, "acme-gocdnext", 0)
    assert (again["rows_unchanged"], again["partitions_written"]) == (5, 0)
    assert PROJECTS.table.partition_file(Paths(named).lake, None).stat().st_mtime_ns == written
    assert {row[3] for row in _projects(unnamed)} == {"127.0.0.1"}  # no GOCDNEXT_NAME: the URL's host
