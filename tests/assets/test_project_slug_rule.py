"""`project_slug` has one definition, the staging SQL's: the projects the CircleCI API pulls read
from the lake are the warehouse's own `stg_circleci__usage_jobs.project_slug` values (those the API
can be asked about: named by URL, or by CircleCI's ids)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from ciwatch_etl.assets.circleci_api import usage_project_slugs
from ciwatch_etl.landing.lake import arrow_schema
from ciwatch_etl.landing.tables import CIRCLECI_USAGE_JOBS
from ciwatch_etl.schemas.circleci_usage_columns import CREDIT_COLUMNS
from ciwatch_etl.environment import Paths
from ciwatch_etl.warehouse.build import build_warehouse

# (vcs_url, organization_id, project_id, project_name)
PROJECTS = [
    ("https://github.com/acme/api.git", "o1", "p1", "api"),
    ("https://gitlab.com/initech/tps", "o3", "p3", "tps"),  # GitLab: CircleCI names it by ids
    (None, "o4", None, "named-only"),  # the warehouse names it by its name; the API could not
]


def test_the_api_pulls_the_warehouse_own_project_slugs(tmp_path: Path):
    home = Paths(tmp_path / "home")
    credits = {column: 0.0 for column in CREDIT_COLUMNS} | {"compute_credits": 1.0, "total_credits": 1.0}
    rows = [
        {**{name: None for name, _ in CIRCLECI_USAGE_JOBS.columns}, **credits, "job_id": f"j{i}",
         "job_run_date": date(2025, 7, 1), "vcs_url": url, "organization_id": org, "project_id": project,
         "project_name": name}
        for i, (url, org, project, name) in enumerate(PROJECTS)
    ]
    target = CIRCLECI_USAGE_JOBS.partition_file(home.lake, "2025-07-01")
    target.parent.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=arrow_schema(CIRCLECI_USAGE_JOBS.columns)), target)
    build_warehouse(home, 0.0006)
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        warehouse = dict(con.execute("select job_id, project_slug from stg_circleci__usage_jobs").fetchall())

    assert warehouse == {"j0": "gh/acme/api", "j1": "circleci/o3/p3", "j2": "circleci/o4/named-only"}
    assert usage_project_slugs(home.lake) == ["circleci/o3/p3", "gh/acme/api"]
