"""Dagster wiring for CircleCI Insights and pipeline history: two multi-assets, one per API family.

Both are unpartitioned on purpose. The APIs cannot be asked for an arbitrary past day (Insights
forgets after 90 days, pipelines are listed newest first) and their summaries describe "as of
today", so a daily partition could not be backfilled or re-run with a meaning of its own. Each
run instead reads its starting point from the lake (high-water marks minus a lookback, workflows
still unfinished) and lands into the tables' immutable day partitions by key, which makes a
re-run harmless and keeps every day the APIs have since forgotten.

Projects: `CIRCLECI_PROJECT_SLUGS`, or else every project seen in the landed usage exports, named
by the warehouse's own rule (`project_slug` of `stg_circleci__usage_jobs`, run over the lake):
`gh/<owner>/<repo>` or `bb/<owner>/<repo>` from `vcs_url`; projects on other VCSs as
`circleci/<organization_id>/<project_id>`, the slug CircleCI gives GitLab and GitHub App projects.
The lake-state reads live in `landing.circleci_state`; this module only wires them to the clients.
"""

from collections.abc import Iterator
from datetime import datetime, timezone

import dagster as dg

from ciwatch_etl.assets.pulls import landed_metadata, skipped
from ciwatch_etl.landing.circleci_state import insights_state, pipeline_state, usage_project_slugs
from ciwatch_etl.landing.json_batches import batches_by_table
from ciwatch_etl.landing.records import RecordLoadReport, land_batches
from ciwatch_etl.landing.tables import CIRCLECI_USAGE_JOBS
from ciwatch_etl.resources import OWNERS, CircleCIResource, DataFolderResource
from ciwatch_etl.schemas import circleci_insights as insights
from ciwatch_etl.schemas.circleci_pipelines import JOBS, PIPELINES, WORKFLOWS
from ciwatch_etl.schemas.json_table import JsonTable
from ciwatch_etl.sources.circleci.insights import (
    REPORTING_WINDOWS,
    CircleCIInsightsClient,
    InsightsWindow,
    pull_insights,
)
from ciwatch_etl.sources.circleci.pipelines import (
    CircleCIPipelinesClient,
    PipelineWindow,
    pull_pipelines,
)
from ciwatch_etl.sources.circleci.json_client import PullFailure, PullResult
from ciwatch_etl.sources.http import RetryPolicy

INSIGHTS_TABLES: tuple[JsonTable, ...] = (
    insights.WORKFLOW_RUNS, insights.WORKFLOW_METRICS, insights.JOB_METRICS,
    insights.JOB_TIMESERIES, insights.FLAKY_TESTS, insights.TEST_METRICS,
)
PIPELINE_TABLES: tuple[JsonTable, ...] = (PIPELINES, WORKFLOWS, JOBS)


class RetryConfig(dg.Config):
    retry_attempts: int = 6
    retry_backoff_seconds: float = 0.5


class PullConfig(RetryConfig):
    # Runs still in progress at the previous pull (or not yet listed then) get in on the next.
    lookback_days: int = 3


class InsightsConfig(PullConfig):
    history_days: int = 90  # how far back a first pull reads: all Insights keeps
    reporting_windows: list[str] = list(REPORTING_WINDOWS)


class PipelinesConfig(PullConfig):
    # How far back a first pull reads. Pipelines are kept far longer than Insights' 90 days, but
    # each job costs a call of its own (about 40,000 calls for 16 busy projects' 30 days).
    history_days: int = 30
    # Unfinished workflows (and pipelines without workflows or jobs) are fetched again this long.
    recheck_days: int = 14
    job_details: bool = True  # one call per job: queue time, resource class, duration in ms


def utc_now() -> datetime:
    """The time a pull is made as of: its snapshot day and the start of its windows."""
    return datetime.now(timezone.utc)


# -- the assets (the helpers are shared with `circleci_projects`) --------------------------------


def configured_slugs(
    context: dg.AssetExecutionContext, what: str, circleci: CircleCIResource, data_folder: DataFolderResource
) -> list[str] | None:
    """The projects every CircleCI API pull reads (see the module docstring); None when the pull is
    skipped for want of a token or of projects."""
    slugs = circleci.project_slug_list or usage_project_slugs(data_folder.paths.lake)
    missing = ([] if circleci.token else ["CIRCLECI_TOKEN"]) + ([] if slugs else ["CIRCLECI_PROJECT_SLUGS"])
    return None if skipped(context, what, missing) else slugs


def retry_policy(circleci: CircleCIResource, config: RetryConfig) -> RetryPolicy:
    return RetryPolicy(
        attempts=config.retry_attempts,
        backoff_seconds=config.retry_backoff_seconds,
        retry_after_cap_seconds=circleci.retry_after_cap_seconds,
    )


def asset_specs(tables: tuple[JsonTable, ...]) -> list[dg.AssetSpec]:
    return [
        dg.AssetSpec(
            key=t.name,
            description=t.table.description,
            group_name="circleci",
            kinds={"circleci", "polars", "parquet"},
            owners=OWNERS,
            skippable=True,  # an unconfigured pull materializes nothing
            # Without CIRCLECI_PROJECT_SLUGS the projects come from the landed usage exports.
            deps=[CIRCLECI_USAGE_JOBS.name],
        )
        for t in tables
    ]


def land_pull(
    context: dg.AssetExecutionContext, data_folder: DataFolderResource, tables: tuple[JsonTable, ...],
    pull: PullResult, slugs: list[str],
) -> Iterator[dg.MaterializeResult]:
    """Land what a pull gathered, one result per table; fail (after landing) if a request failed."""
    extracted_at = utc_now().astimezone(timezone.utc).replace(tzinfo=None)
    batches = batches_by_table(pull.items, tables)
    with data_folder.write_lock():
        reports = [land_batches(data_folder.paths.lake, t.table, t.schema, batches[t.name], extracted_at) for t in tables]
    for table, report in zip(tables, reports, strict=True):
        context.log.info(
            f"{table.name}: {report.rows_read} rows read, {report.merge.rows_new} new, "
            f"{report.merge.rows_changed} changed, {report.rows_quarantined} quarantined"
        )
        yield dg.MaterializeResult(asset_key=table.name, metadata=pull_metadata(report, pull, slugs))
    for failed in pull.failures:
        log = context.log.warning if failed.is_skip else context.log.error
        log(f"{'skipped' if failed.is_skip else 'failed'}: {describe(failed)}")
    if pull.errors:
        raise dg.Failure(
            description="CircleCI requests failed (the rest landed): " + "; ".join(describe(f) for f in pull.errors),
            metadata={"failures": _failure_table(pull.errors)},
        )


@dg.multi_asset(
    name="circleci_insights",
    specs=asset_specs(INSIGHTS_TABLES),
    description=(
        "One row per workflow run, per daily summary snapshot, per job-day and per test, from CircleCI "
        "Insights; kept after Insights forgets them (runs and daily series after 90 days)."
    ),
)
def circleci_insights(
    context: dg.AssetExecutionContext, config: InsightsConfig, circleci: CircleCIResource,
    data_folder: DataFolderResource,
) -> Iterator[dg.MaterializeResult]:
    slugs = configured_slugs(context, "CircleCI Insights", circleci, data_folder)
    if slugs is None:
        return
    now = utc_now()
    window = InsightsWindow(now, config.history_days, config.lookback_days, tuple(config.reporting_windows))
    state = insights_state(data_folder.paths.lake, now)
    context.log.info(f"CircleCI Insights for {len(slugs)} projects, snapshot {window.snapshot_date}")
    with CircleCIInsightsClient(circleci.token or "", circleci.api_url, policy=retry_policy(circleci, config)) as client:
        pull = pull_insights(client, slugs, window, state)
    yield from land_pull(context, data_folder, INSIGHTS_TABLES, pull, slugs)


@dg.multi_asset(
    name="circleci_pipeline_history",
    specs=asset_specs(PIPELINE_TABLES),
    description="One row per CircleCI pipeline, workflow and job run, pulled incrementally and kept.",
)
def circleci_pipeline_history(
    context: dg.AssetExecutionContext, config: PipelinesConfig, circleci: CircleCIResource,
    data_folder: DataFolderResource,
) -> Iterator[dg.MaterializeResult]:
    slugs = configured_slugs(context, "CircleCI pipelines", circleci, data_folder)
    if slugs is None:
        return
    now = utc_now()
    window = PipelineWindow(now, config.history_days, config.lookback_days, config.job_details)
    state = pipeline_state(data_folder.paths.lake, now, config.recheck_days)
    context.log.info(
        f"CircleCI pipelines for {len(slugs)} projects; {len(state.recheck)} unfinished pipelines to fetch again"
    )
    with CircleCIPipelinesClient(circleci.token or "", circleci.api_url, policy=retry_policy(circleci, config)) as client:
        pull = pull_pipelines(client, slugs, window, state)
    yield from land_pull(context, data_folder, PIPELINE_TABLES, pull, slugs)


# -- metadata ----------------------------------------------------------------------------------


def describe(failed: PullFailure) -> str:
    page = f" page {failed.page}" if failed.page else ""
    return f"{failed.project}: {failed.request}{page}: {failed.message}"


def _failure_table(failures: list[PullFailure]) -> dg.MetadataValue:
    lines = ["| project | request | page | status | error |", "|---|---|---|---|---|"]
    for f in failures:
        request, message = (text.replace("|", "\\|").replace("\n", " ") for text in (f.request, f.message[:300]))
        lines.append(f"| {f.project} | {request} | {f.page or ''} | {f.status or ''} | {message} |")
    return dg.MetadataValue.md("\n".join(lines) if failures else "none")


def pull_metadata(report: RecordLoadReport, pull: PullResult, slugs: list[str]) -> dict[str, dg.MetadataValue]:
    """Row counts of one table's load, and the pull's failures by project, request and page."""
    return {
        "projects": dg.MetadataValue.int(len(slugs)),
        "listings": dg.MetadataValue.int(report.batches),
        **landed_metadata(report),
        "failed_requests": dg.MetadataValue.int(len(pull.errors)),
        "skipped_requests": dg.MetadataValue.int(len(pull.skipped)),
        "failures": _failure_table(pull.errors),
        "skipped": _failure_table(pull.skipped),
    }
