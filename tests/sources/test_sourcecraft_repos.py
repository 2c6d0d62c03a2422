"""SourceCraft repositories (GetRepositoryByID): the simulator against the Swagger spec, the client
against the simulator over HTTP (including 404 and a bad token), and the asset landing them."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb
import httpx
import pytest

from ciwatch_etl.assets.sourcecraft import sourcecraft_ci_runs
from ciwatch_etl.resources import SourceCraftResource, DataFolderResource
from ciwatch_etl.schemas.sourcecraft_repos import REPOS
from ciwatch_etl.environment import Paths
from ciwatch_etl.simulator.sourcecraft import SourceCraftSimulator
from ciwatch_etl.sources.http import RetryPolicy
from ciwatch_etl.sources.sourcecraft.client import SourceCraftClient, SourceCraftError

NOW = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)
FAST = RetryPolicy(attempts=2, backoff_seconds=0.01, backoff_max_seconds=0.02, retry_after_cap_seconds=1.0)
UNKNOWN = "00000000-0000-0000-0000-000000000000"


@pytest.fixture(scope="module")
def sim():
    with SourceCraftSimulator(now=NOW, days=10) as simulator:
        yield simulator


def _swagger_types(refs_dir: Path) -> dict[str, dict]:
    spec = json.loads((refs_dir / "sourcecraft/sourcecraft.swagger.json").read_text())
    return spec["definitions"]


def test_a_repository_has_the_spec_shape_and_unknown_ones_the_error_envelope(sim, refs_dir: Path):
    definitions = _swagger_types(refs_dir)
    repository = definitions["Repository"]["properties"]
    headers = {"Authorization": f"Bearer {sim.token}"}
    bodies = [httpx.get(f"{sim.api_url}/repos/id:{repo_id}", headers=headers).json()
              for repo_id in (*sim.repo_ids, sim.empty_repo_id, sim.forbidden_repo_id)]
    for body in bodies:
        assert set(body) <= set(repository)
        assert all(isinstance(body[k], str) for k in ("id", "name", "slug", "default_branch", "last_updated")
                   if k in body)
        assert set(body["organization"]) <= set(definitions["OrganizationEmbedded"]["properties"])
        assert body["visibility"] in definitions["Repository.Visibility"]["enum"]
        assert body["template_type"] in definitions["RepoTemplate"]["enum"]
    payments = bodies[0]
    assert (payments["slug"], payments["name"], payments["organization"]["slug"], payments["default_branch"]) == (
        "payments-api", "Payments API", "acme", "main")
    assert {b["slug"]: b["default_branch"] for b in bodies}["infra-live"] == "master"
    assert "last_updated" not in bodies[len(sim.repo_ids)]  # the repository without runs
    unknown = httpx.get(f"{sim.api_url}/repos/id:{UNKNOWN}", headers=headers)
    assert unknown.status_code == 404
    assert set(unknown.json()) <= set(definitions["ApiErrorResponse"]["properties"])
    assert unknown.json()["error_code"] == "NotFound" and re.fullmatch(r"[0-9a-f]{32}", unknown.json()["request_id"])


def test_the_client_reads_a_repository_and_none_for_one_the_api_does_not_know(sim):
    with SourceCraftClient(sim.token, sim.api_url, policy=FAST) as client:
        repository = client.get_repository(sim.repo_ids[2])
        assert client.get_repository(UNKNOWN) is None
    assert (repository["id"], repository["slug"], repository["default_branch"]) == (
        sim.repo_ids[2], "infra-live", "master")
    with SourceCraftClient("sc-pat-wrong-token", sim.api_url, policy=FAST) as client:
        with pytest.raises(SourceCraftError) as refused:
            client.get_repository(sim.repo_ids[0])
    assert refused.value.status == 401 and "Unauthenticated" in str(refused.value)
    assert "sc-pat-wrong-token" not in str(refused.value)


def test_the_pull_lands_each_repository_with_its_names_and_default_branch(sim, tmp_path: Path):
    home = tmp_path / "home"
    resources = {
        "sourcecraft": SourceCraftResource(token=sim.token, api_url=sim.api_url, repo_ids=",".join(sim.repo_ids),
                                           page_size=50),
        "data_folder": DataFolderResource(home=str(home)),
    }
    result = dg.materialize([sourcecraft_ci_runs], resources=resources)
    path = REPOS.table.partition_file(Paths(home).lake, None)
    rows = duckdb.sql(f"select repo_id, repo_slug, repo_name, organization_slug, default_branch "
                      f"from read_parquet('{path}') order by repo_slug").fetchall()
    assert rows == sorted([
        (sim.repo_ids[0], "payments-api", "Payments API", "acme", "main"),
        (sim.repo_ids[1], "web-console", "Web Console", "acme", "main"),
        (sim.repo_ids[2], "infra-live", "infra-live", "acme", "master"),
    ], key=lambda row: row[1])
    metadata = result.asset_materializations_for_node("sourcecraft_ci_runs")
    repos_metadata = next(m.metadata for m in metadata if m.asset_key.to_user_string() == REPOS.name)
    assert repos_metadata["rows_landed_new"].value == 3
