"""The raw table of SourceCraft repositories (`GET /repos/id:{repo_id}`, the spec's `Repository`):
a dimension, one row per repository, the latest pull wins.

The CI API names a repository only by its id; this table gives it the names people use (its
slug, as in its URL, and its name), its organization's slug (the API embeds no organization
name) and its default branch. What changes with every push (`last_updated`, counters) is left
out: a dimension is rewritten, and the models below it rebuilt, only when a row changes.
"""

from __future__ import annotations

from ciwatch_etl.schemas.json_rows import JsonField as F
from ciwatch_etl.schemas.json_rows import text_fields
from ciwatch_etl.schemas.json_table import json_table

REPOS = json_table(
    "sourcecraft_repos", "sourcecraft/repos", None, ("repo_id",),
    "One row per SourceCraft repository (GET /repos/id:{repo_id}): slug, name, organization and "
    "default branch; the latest pull wins.",
    (
        F("repo_id", "varchar", "id", required=True),
        *text_fields(
            repo_slug="slug", repo_name="name", organization_id="organization.id",
            organization_slug="organization.slug", default_branch="default_branch", visibility="visibility",
            description="description",
        ),
    ),
)
