"""Which projects Insights and pipelines are pulled for, and what happens when none are set."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ciwatch_etl.assets import circleci_api
from ciwatch_etl.assets.circleci_api import (
    circleci_insights,
    circleci_pipeline_history,
    usage_project_slugs,
)
from ciwatch_etl.resources import CircleCIResource, DataFolderResource
from ciwatch_etl.landing.lake import arrow_schema
from ciwatch_etl.landing.tables import CIRCLECI_USAGE_JOBS
from ciwatch_etl.landing.usage_load import UsageFile, land_usage_files
from ciwatch_etl.environment import Paths
from ciwatch_etl.simulator.circleci import Simulator

TABLES = {"circleci_insights": circleci_insights, "circleci_pipeline_history": circleci_pipeline_history}


def write_usage(lake: Path, projects: list[tuple[str | None, str, str]]) -> None:
    """One usage row per (vcs_url, organization_id, project_id)."""
    rows = [
        {**{name: None for name, _ in CIRCLECI_USAGE_JOBS.columns}, "job_id": f"j{i}", "job_run_date": date(2025, 7, 1),
         "vcs_url": url, "organization_id": org, "project_id": project, "total_credits": 1.0}
        for i, (url, org, project) in enumerate(projects)
    ]
    target = CIRCLECI_USAGE_JOBS.partition_file(lake, "2025-07-01")
    target.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=arrow_schema(CIRCLECI_USAGE_JOBS.columns)), target)


def test_project_slugs_come_from_the_usage_exports_vcs_urls(tmp_path: Path, refs_dir: Path):
    lake = tmp_path / "lake"
    assert usage_project_slugs(lake) == []
    sample = refs_dir / "circleci/usage_export/faros/usage-export.csv"
    land_usage_files(lake, [UsageFile(sample, sample.name, "sample")], extracted_at=datetime(2025, 7, 3))
    assert usage_project_slugs(lake) == ["gh/faros-test/test-repo"]  # from VCS_URL, not PROJECT_NAME

    write_usage(tmp_path / "other", [
        ("https://github.com/acme/api.git", "o1", "p1"),
        ("https://bitbucket.org/globex/shop/", "o2", "p2"),
        ("https://gitlab.com/initech/tps", "o3", "p3"),  # GitLab: CircleCI names it by ids
        (None, "o4", "p4"),
        ("https://github.com/acme/api", "o1", "p1"),  # the same project again
    ])
    assert usage_project_slugs(tmp_path / "other") == [
        "bb/globex/shop", "circleci/o3/p3", "circleci/o4/p4", "gh/acme/api",
    ]


@pytest.mark.parametrize("name", sorted(TABLES))
@pytest.mark.parametrize(
    ("token", "missing"),
    [(None, "CIRCLECI_TOKEN, CIRCLECI_PROJECT_SLUGS"), ("a-token", "CIRCLECI_PROJECT_SLUGS")],
)
def test_without_token_or_projects_the_assets_skip(tmp_path: Path, name: str, token, missing: str):
    resources = {
        "circleci": CircleCIResource(token=token, api_url="http://127.0.0.1:9/api/v2"),
        "data_folder": DataFolderResource(home=str(tmp_path / "home")),
    }
    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize([TABLES[name]], resources=resources, instance=instance)
        messages = [e.user_message for e in instance.all_logs(result.run_id) if "skipped" in e.user_message]
    assert result.success
    assert result.asset_materializations_for_node(name) == []  # a skip materializes nothing
    assert len(messages) == 1 and messages[0].endswith(f"skipped: {missing} not set")


def test_without_project_slugs_the_usage_exports_projects_are_pulled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    home = tmp_path / "home"
    write_usage(Paths(home).lake, [("https://github.com/acme-robotics/auth-service", "o", "p")])
    with Simulator(end_date=date(2025, 7, 8), days=3) as sim:
        monkeypatch.setattr(circleci_api, "utc_now", lambda: sim.now)
        resources = {
            "circleci": CircleCIResource(token=sim.token, api_url=sim.circleci_api_url),
            "data_folder": DataFolderResource(home=str(home)),
        }
        config = {"ops": {"circleci_insights": {"config": {"history_days": 1, "reporting_windows": ["last-7-days"]}}}}
        result = dg.materialize([circleci_insights], resources=resources, run_config=config)
        asked = {r.path.split("/")[6] for r in sim.requests if r.path.startswith("/api/v2/insights/gh/")}

    assert result.success
    assert asked == {"auth-service"}
    runs = {m.asset_key.path[-1]: m.metadata for m in result.asset_materializations_for_node("circleci_insights")}
    assert runs["circleci_insights_workflow_runs"]["rows_landed_new"].value > 0
