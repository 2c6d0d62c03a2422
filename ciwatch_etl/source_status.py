"""Which source pulls are configured: what a run pulls, and the one line saying why one is not.

A pull whose settings are missing materializes nothing (its partitions stay missing), and its
SQL models must not wait for it: Dagster skips every step downstream of an output that was not
yielded. So runs are narrowed to the configured pulls before they start (the CLI's `run`, the
nightly schedule), and the skipped ones are reported, one line per source.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import dagster as dg

from ciwatch_etl.landing.tables import CIRCLECI_USAGE_JOBS

# Resolved resources -> the settings a pull lacks (empty when it can run).
MissingSettings = Callable[[Mapping[str, Any]], list[str]]


def _circleci_api(resources: Mapping[str, Any]) -> list[str]:
    """Insights, pipelines and projects: a token, and projects named, found by the usage export
    pulled in the same run (org ids), or already in the lake (usage files loaded by hand)."""
    circleci = resources["circleci"]
    missing = [] if circleci.token else ["CIRCLECI_TOKEN"]
    if circleci.project_slug_list or circleci.org_id_list:
        return missing
    # Every landed usage row names its org and project (billing columns), so any landed day gives
    # projects: a glob, not a scan of a year of rows (that cost a nightly a minute).
    landed = next(CIRCLECI_USAGE_JOBS.directory(resources["data_folder"].paths.lake).glob("*/data.parquet"), None)
    return missing + ([] if landed else ["CIRCLECI_PROJECT_SLUGS"])


# Pull (op name) -> (source, settings it lacks). Every source asset of the code location is here.
PULLS: dict[str, tuple[str, MissingSettings]] = {
    "circleci_usage_jobs": ("circleci", lambda r: r["circleci"].missing_settings),
    "circleci_insights": ("circleci", _circleci_api),
    "circleci_pipeline_history": ("circleci", _circleci_api),
    "circleci_projects": ("circleci", _circleci_api),
    "sourcecraft_ci_runs": ("sourcecraft", lambda r: r["sourcecraft"].missing_settings),
    "gocdnext": ("gocdnext", lambda r: r["gocdnext"].missing_settings),
}


class NothingConfiguredError(RuntimeError):
    """A run asked for source pulls, and none of them is configured."""


@dataclass(frozen=True)
class Pull:
    name: str  # the op, e.g. circleci_insights
    source: str  # circleci, sourcecraft, gocdnext
    keys: frozenset[dg.AssetKey]
    missing: tuple[str, ...]


def pull_status(assets: Iterable[Any], resources: Mapping[str, Any]) -> list[Pull]:
    """Every source pull among `assets`, with the settings it lacks (EnvVar values resolved)."""
    resolved = {
        name: resource.process_config_and_initialize() if isinstance(resource, dg.ConfigurableResource) else resource
        for name, resource in resources.items()
    }
    pulls = []
    for assets_def in assets:
        if isinstance(assets_def, dg.AssetsDefinition) and assets_def.node_def.name in PULLS:
            source, missing = PULLS[assets_def.node_def.name]
            pulls.append(Pull(assets_def.node_def.name, source, frozenset(assets_def.keys), tuple(missing(resolved))))
    return pulls


def skip_lines(pulls: Sequence[Pull]) -> list[str]:
    """One line per source with a pull that cannot run: `sourcecraft: skipped, SOURCECRAFT_TOKEN not set`.

    A source whose every pull is skipped gets one line; otherwise each skipped pull is named.
    """
    lines = []
    for source in dict.fromkeys(p.source for p in pulls):
        mine = [p for p in pulls if p.source == source]
        skipped = [p for p in mine if p.missing]
        if not skipped:
            continue
        if len(skipped) == len(mine):
            missing = dict.fromkeys(name for p in skipped for name in p.missing)
            lines.append(f"{source}: skipped, {', '.join(missing)} not set")
        else:
            lines += [f"{source} ({p.name}): skipped, {', '.join(p.missing)} not set" for p in skipped]
    return lines
