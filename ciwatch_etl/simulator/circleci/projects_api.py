"""`GET /project/{project-slug}` (getProjectBySlug): a project, its organization and its VCS.

Shaped as the spec's Project and as the recorded response (DevLake's `GET /project/github/
coldgust/coldgust.github.io`): the slug in its short form (`gh/...`, also when asked as
`github/...`), names and ids of the project and its organization, and `vcs_info` with the
repository URL, the VCS provider and the default branch. An unknown project answers 404
`{"message": "Project not found"}`.
"""

from __future__ import annotations

import re
from typing import Any

from ciwatch_etl.simulator.circleci.circleci_api import PROJECT_SLUG, Route, message
from ciwatch_etl.simulator.circleci.entities import Project
from ciwatch_etl.simulator.http_base import Request, Response
from ciwatch_etl.simulator.circleci.pipelines_api import PROJECT_NOT_FOUND
from ciwatch_etl.simulator.circleci.timeline import Timeline

# vcs_info.provider's enum in the spec
_VCS_PROVIDERS = {"github": "GitHub", "bitbucket": "Bitbucket"}


def project_json(project: Project) -> dict[str, Any]:
    org = project.org
    return {
        "slug": project.slug,
        "organization_name": org.name,
        "organization_id": org.id,
        "name": project.name,
        "id": project.id,
        "organization_slug": f"{org.slug_prefix}/{org.name}",
        "vcs_info": {
            "vcs_url": project.vcs_url,
            "default_branch": project.default_branch,
            "provider": _VCS_PROVIDERS[org.vcs_name],
        },
    }


class ProjectsApi:
    def __init__(self, timeline: Timeline) -> None:
        self._timeline = timeline

    def routes(self) -> list[Route]:
        return [Route("GET", re.compile(rf"/project/{PROJECT_SLUG}"), self.project)]

    def project(self, request: Request, match: re.Match[str]) -> Response:
        project = self._timeline.project(match["slug"])
        if project is None:
            return message(404, PROJECT_NOT_FOUND)
        return Response.json(200, project_json(project))
