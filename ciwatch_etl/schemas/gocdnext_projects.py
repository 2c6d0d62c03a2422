"""The raw table of gocdnext projects: a dimension, one row per project, the latest pull wins.

A row is a project's detail (`GET /api/v1/projects/{slug}`): its id, slug and name, its SCM
binding (provider, URL, default branch; null while no repository is bound), and the server it was
pulled from, by host (`server_host`, as every gocdnext row names it) and by the name people know
it by (`server_name`: GOCDNEXT_NAME, else the host; gocdnext's API names no server). The
project's run statistics (run count, latest run, status) are left out: they change with every run,
and a dimension is rewritten, and the models below it rebuilt, only when a row changes.
"""

from __future__ import annotations

from ciwatch_etl.schemas.json_rows import JsonField as F
from ciwatch_etl.schemas.json_table import json_table

PROJECTS = json_table(
    "gocdnext_projects", "gocdnext/projects", None, ("project_id",),
    "One row per gocdnext project (GET /api/v1/projects/{slug}): names, SCM binding and default branch, "
    "and the server's host and name; the latest pull wins.",
    (
        F("project_id", "varchar", "project.id", required=True),
        F("server_host", "varchar", required=True),
        F("server_name", "varchar", required=True),
        F("slug", "varchar", "project.slug", required=True),
        F("name", "varchar", "project.name"),
        F("description", "varchar", "project.description"),
        F("provider", "varchar", "project.provider"),
        F("config_path", "varchar", "project.config_path"),
        F("created_at", "timestamp", "project.created_at"),
        F("scm_provider", "varchar", "scm_source.provider"),
        F("scm_url", "varchar", "scm_source.url"),
        F("default_branch", "varchar", "scm_source.default_branch"),
    ),
)
