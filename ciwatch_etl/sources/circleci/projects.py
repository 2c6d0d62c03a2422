"""CircleCI projects (API v2): `GET /project/{project-slug}`, one call per project.

A project's record names it, its organization and its VCS, whose `default_branch` is the one the
warehouse measures recoveries on. A 404 (a deleted or renamed project) is a skip, as in the other
pulls; any other failure is noted by project, and the pull goes on with the next.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ciwatch_etl.sources.circleci.json_client import CircleCIJsonClient, PullResult, slug_path, source_key
from ciwatch_etl.sources.http import ApiError

REQUEST = "GET project/{project-slug}"
PROJECTS = "circleci_projects"  # the raw table the records land in (`schemas.circleci_projects`)


class CircleCIProjectsClient(CircleCIJsonClient):
    def project(self, slug: str) -> dict[str, Any]:
        """The project as the API gives it; `ApiError` (404 for one it does not know) otherwise."""
        return self.get(f"project/{slug_path(slug)}")


def pull_projects(client: CircleCIProjectsClient, slugs: Iterable[str]) -> PullResult:
    """Every project's record, landed as one batch; failures noted by project."""
    result = PullResult()
    records = []
    for slug in slugs:
        try:
            records.append(client.project(slug))
        except ApiError as exc:
            result.fail(slug, f"GET project/{slug}", exc)
    result.add(PROJECTS, records, {}, REQUEST, source_key("projects"))
    return result
