"""The one Dagster code location: every asset, check, schedule and resource of ciwatch_etl."""

from __future__ import annotations

import os
from collections.abc import Mapping

import dagster as dg

from ciwatch_etl.assets.circleci_api import circleci_insights, circleci_pipeline_history
from ciwatch_etl.assets.circleci_projects import circleci_projects
from ciwatch_etl.assets.circleci_usage import circleci_usage_jobs
from ciwatch_etl.assets.freshness import freshness_checks
from ciwatch_etl.assets.gocdnext import gocdnext_pull
from ciwatch_etl.assets.sourcecraft import sourcecraft_ci_runs
from ciwatch_etl.assets.sql_models import build_sql_model_assets
from ciwatch_etl.resources import (
    CIRCLECI_API_URL,
    SOURCECRAFT_API_URL,
    CircleCIResource,
    DataFolderResource,
    GocdnextResource,
    SourceCraftResource,
)
from ciwatch_etl.environment import credit_price_usd, default_home, load_env_file, poll_seconds
from ciwatch_etl.schedules import build_nightly_schedule, nightly_job
from ciwatch_etl.source_status import pull_status, skip_lines


def _env_or(name: str, default):
    """`EnvVar(name)` when the variable is set, else the default.

    Only the variable's presence is looked at here; its value is resolved by Dagster at run
    time, so tokens never pass through this module. An unset token leaves the source
    unconfigured: its asset is skipped with a one-line message instead of failing.
    """
    return dg.EnvVar(name) if os.environ.get(name) else default


def build_resources() -> dict[str, dg.ConfigurableResource]:
    return {
        "data_folder": DataFolderResource(
            home=_env_or("CIWATCH_HOME", str(default_home())),
            credit_price_usd=credit_price_usd(),
        ),
        "circleci": CircleCIResource(
            token=_env_or("CIRCLECI_TOKEN", None),
            api_url=_env_or("CIRCLECI_API_URL", CIRCLECI_API_URL),
            org_ids=_env_or("CIRCLECI_ORG_IDS", ""),
            project_slugs=_env_or("CIRCLECI_PROJECT_SLUGS", ""),
            poll_interval_seconds=poll_seconds(),
        ),
        "sourcecraft": SourceCraftResource(
            token=_env_or("SOURCECRAFT_TOKEN", None),
            api_url=_env_or("SOURCECRAFT_API_URL", SOURCECRAFT_API_URL),
            repo_ids=_env_or("SOURCECRAFT_REPO_IDS", ""),
        ),
        "gocdnext": GocdnextResource(
            url=_env_or("GOCDNEXT_URL", ""), token=_env_or("GOCDNEXT_TOKEN", None), name=_env_or("GOCDNEXT_NAME", "")
        ),
    }


def build_definitions(resources: Mapping[str, dg.ConfigurableResource] | None = None) -> dg.Definitions:
    """The code location. `resources` replaces the ones built from the environment by name
    (the demo hands in its simulators' this way instead of rewriting the environment)."""
    load_env_file()
    assets = [
        circleci_usage_jobs,
        circleci_insights,
        circleci_pipeline_history,
        circleci_projects,
        sourcecraft_ci_runs,
        gocdnext_pull,
        build_sql_model_assets(),
    ]
    checks = freshness_checks()
    all_resources = {**build_resources(), **(resources or {})}
    pulls = pull_status(assets, all_resources)
    skipped = {key for pull in pulls if pull.missing for key in pull.keys}
    selection = None
    if skipped:
        keys = [key for a in assets for key in a.keys if key not in skipped]
        # Named too: left to default, a run asking for some assets would run every check of the job.
        check_keys = [c for a in [*assets, *checks] for c in a.check_keys if c.asset_key not in skipped]
        selection = (keys, check_keys)
    return dg.Definitions(
        assets=[*assets, *checks],
        jobs=[nightly_job],
        schedules=[
            build_nightly_schedule(
                selection,
                skip_lines(pulls),
                partitioned=any(a.partitions_def and not (a.keys & skipped) for a in assets),
            )
        ],
        resources=all_resources,
    )

defs = build_definitions()
