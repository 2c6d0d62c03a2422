"""Dagster wiring for CircleCI projects: each project's names and real default branch.

Unpartitioned like the other CircleCI API pulls: a project is read as it is now, one call each,
for the projects Insights and pipeline history read. The table is a dimension, rewritten only
when a project's record changes, so a nightly run that finds nothing new rebuilds nothing.
"""

from collections.abc import Iterator

import dagster as dg

from ciwatch_etl.assets.circleci_api import RetryConfig, asset_specs, configured_slugs, land_pull, retry_policy
from ciwatch_etl.resources import CircleCIResource, DataFolderResource
from ciwatch_etl.schemas.circleci_projects import PROJECTS
from ciwatch_etl.sources.circleci.projects import CircleCIProjectsClient, pull_projects

TABLES = (PROJECTS,)


@dg.multi_asset(name="circleci_projects", specs=asset_specs(TABLES))
def circleci_projects(
    context: dg.AssetExecutionContext, config: RetryConfig, circleci: CircleCIResource, data_folder: DataFolderResource,
) -> Iterator[dg.MaterializeResult]:
    """One row per CircleCI project: its names, ids and VCS default branch."""
    slugs = configured_slugs(context, "CircleCI projects", circleci, data_folder)
    if slugs is None:
        return
    with CircleCIProjectsClient(circleci.token or "", circleci.api_url, policy=retry_policy(circleci, config)) as client:
        pull = pull_projects(client, slugs)
    yield from land_pull(context, data_folder, TABLES, pull, slugs)
