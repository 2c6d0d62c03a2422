"""gocdnext project details (`GET /api/v1/projects/{slug}`): each project's SCM binding, whose
`default_branch` the projects list does not carry.

The detail wraps the project: `{"project": ProjectSummary, "scm_source"?: {provider, url,
default_branch, ...}, "pipelines": [...], "runs": [...]}`; `scm_source` is absent while no
repository is bound (a `manual` project). `?runs=1` keeps the recent-runs list it always carries
short (the server takes 1..100). A project deleted since the list answers 404 `project not found`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from ciwatch_etl.sources.gocdnext.client import API_PREFIX, GocdnextClient
from ciwatch_etl.sources.http import ApiError


@dataclass
class ProjectDetails:
    details: list[dict[str, Any]] = field(default_factory=list)  # as the API gave them
    gone: list[str] = field(default_factory=list)  # slugs the server no longer has (404)


def project_detail(client: GocdnextClient, slug: str) -> dict[str, Any] | None:
    """One project's detail; None when the server no longer has it."""
    try:
        body = client.get_json(f"projects/{quote(slug, safe='')}", {"runs": 1})
    except ApiError as exc:
        if exc.status == 404:
            return None
        raise
    project = body.get("project") if isinstance(body, dict) else None
    if not isinstance(project, dict) or project.get("slug") != slug:
        raise ApiError(f"GET {client.server_url}{API_PREFIX}/projects/{slug}: unexpected body (not this project)")
    return body


def project_details(client: GocdnextClient, slugs: Iterable[str]) -> ProjectDetails:
    """The detail of every project in `slugs` (the projects list's), in order."""
    found = ProjectDetails()
    for slug in slugs:
        detail = project_detail(client, slug)
        if detail is None:
            found.gone.append(slug)
        else:
            found.details.append(detail)
    return found
