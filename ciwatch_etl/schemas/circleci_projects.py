"""The raw table of CircleCI projects (`GET /project/{project-slug}`): a dimension, one row per
project, the latest pull wins.

It is where the warehouse learns each project's real default branch (`vcs_info.default_branch`,
required by the spec) and its names. Keyed by the slug the API answers with, the short form
(`gh/org/repo`) that pipelines and workflows carry, whatever form it was asked for in.
"""

from __future__ import annotations

from ciwatch_etl.schemas.json_rows import JsonField as F
from ciwatch_etl.schemas.json_rows import text_fields
from ciwatch_etl.schemas.json_table import json_table

PROJECTS = json_table(
    "circleci_projects", "circleci/projects", None, ("project_slug",),
    "One row per CircleCI project (GET /project/{project-slug}): names, ids and the VCS default branch; "
    "the latest pull wins.",
    (
        F("project_slug", "varchar", "slug", required=True),
        *text_fields(
            project_id="id", project_name="name", organization_id="organization_id",
            organization_slug="organization_slug", organization_name="organization_name",
            vcs_url="vcs_info.vcs_url", vcs_provider="vcs_info.provider", default_branch="vcs_info.default_branch",
        ),
    ),
)
