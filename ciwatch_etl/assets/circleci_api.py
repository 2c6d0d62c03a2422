"""Dagster wiring for CircleCI Insights and pipeline history: two multi-assets, one per API family.

Both are unpartitioned on purpose. The APIs cannot be asked for an arbitrary past day (Insights
forgets after 90 days, pipelines are listed newest first) and their summaries describe "as of
today", so a daily partition could not be backfilled or re-run with a meaning of its own. Each
run instead reads its starting point from the lake (high-water marks minus a lookback, workflows
still unfinished) and lands into the tables' immutable day partitions by key, which makes a
re-run harmless and keeps every day the APIs have since forgotten.

Projects: `CIRCLECI_PROJECT_SLUGS`, or else every project seen in the landed usage exports
(`gh/<owner>/<repo>` or `bb/<owner>/<repo>` from `vcs_url`; projects on other VCSs as
`circleci/<organization_id>/<project_id>`, the slug CircleCI gives GitLab and GitHub App projects).
"""

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import dagster as dg
import duckdb

from ciwatch_etl.assets.circleci_usage import CircleCIResource
from ciwatch_etl.schemas.raw_table import RawTable
from ciwatch_etl.landing.json_batches import batches_by_table
from ciwatch_etl.landing.records import RecordLoadReport, land_batches
from ciwatch_etl.landing.tables import CIRCLECI_USAGE_JOBS
from ciwatch_etl.resources import OWNERS, WarehouseResource
from ciwatch_etl.schemas import circleci_insights as insights
from ciwatch_etl.schemas.circleci_pipelines import JOBS, PIPELINES, WORKFLOWS
from ciwatch_etl.schemas.json_table import JsonTable
from ciwatch_etl.sources.circleci.insights import (
    REPORTING_WINDOWS,
    RETENTION,
    CircleCIInsightsClient,
    InsightsState,
    InsightsWindow,
    pull_insights,
)
from ciwatch_etl.sources.circleci.pipelines import (
    UNFINISHED_WORKFLOW_STATUSES,
    CircleCIPipelinesClient,
    PipelineState,
    PipelineWindow,
    pull_pipelines,
)
from ciwatch_etl.sources.http import RetryPolicy
from ciwatch_etl.sources.circleci.json_client import PullFailure, PullResult

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


# -- reading the lake --------------------------------------------------------------------------


def _files(lake: Path, table: RawTable) -> list[str]:
    return sorted(str(p) for p in table.directory(lake).glob("*/data.parquet"))


def _query(lake: Path, tables: dict[str, RawTable], sql: str, params: list | None = None) -> list[tuple]:
    """Run `sql` over the lake, each raw table under the name `tables` gives it (empty if never landed)."""
    with duckdb.connect() as con:
        for name, table in tables.items():
            files = ", ".join("'" + f.replace("'", "''") + "'" for f in _files(lake, table))
            if files:
                # A view takes no parameters: the file list is spelled out, quotes doubled.
                con.execute(
                    f"create view {name} as select * from read_parquet([{files}], hive_partitioning = false, "
                    "union_by_name = true)"
                )
            else:
                con.execute(f"create table {name} ({', '.join(f'{c} {t}' for c, t in table.columns)})")
        return con.execute(sql, params or []).fetchall()


def usage_project_slugs(lake: Path) -> list[str]:
    """Project slugs of every project in the landed usage exports (see the module docstring)."""
    rows = _query(
        lake,
        {"usage": CIRCLECI_USAGE_JOBS},
        r"""
        with projects as (
            select distinct
                regexp_extract(vcs_url, '^https?://([^/]+)/', 1) as host,
                regexp_extract(vcs_url, '^https?://[^/]+/([^/]+/[^/]+?)(\.git)?/?$', 1) as repo,
                organization_id,
                project_id
            from usage
        )
        select distinct case
            when lower(host) = 'github.com' and repo <> '' then 'gh/' || repo
            when lower(host) = 'bitbucket.org' and repo <> '' then 'bb/' || repo
            when organization_id is not null and project_id is not null
                then 'circleci/' || organization_id || '/' || project_id
        end as slug
        from projects
        where slug is not null
        order by slug
        """,
    )
    return [slug for (slug,) in rows]


def insights_state(lake: Path, now: datetime) -> InsightsState:
    tables = {"runs": insights.WORKFLOW_RUNS.table, "series": insights.JOB_TIMESERIES.table}
    runs = _query(
        lake, tables,
        "select project_slug, workflow_name, max(created_at), min(created_at) filter (where stopped_at is null) "
        "from runs group by all",
    )
    series = _query(lake, tables, "select project_slug, workflow_name, max(interval_start_at) from series group by all")
    # Workflows with runs Insights still keeps: asked for even if today's summary failed.
    known = _query(
        lake, tables,
        "select project_slug, list(distinct workflow_name) from runs where created_at >= $1 group by all",
        [_naive(now - RETENTION)],
    )
    return InsightsState(
        runs_high_water={(p, w): at for p, w, at, _ in runs},
        runs_unfinished_since={(p, w): since for p, w, _, since in runs if since is not None},
        series_high_water={(p, w): at for p, w, at in series},
        known_workflows={p: names for p, names in known},
    )


def pipeline_state(lake: Path, now: datetime, recheck_days: int) -> PipelineState:
    tables = {"pipelines": PIPELINES.table, "workflows": WORKFLOWS.table, "jobs": JOBS.table}
    since = _naive(now - timedelta(days=recheck_days))
    unfinished = ", ".join(f"'{s}'" for s in sorted(UNFINISHED_WORKFLOW_STATUSES))
    high_water = _query(lake, tables, "select project_slug, max(created_at) from pipelines group by all")
    # Unfinished: a workflow still running; a workflow that succeeded or failed without jobs in
    # the lake (its job calls failed); a pipeline without workflows (its workflow call failed, or
    # none has started yet; errored pipelines never get any).
    recheck = _query(
        lake, tables,
        f"""
        with recent_workflows as (
            select w.pipeline_id, w.workflow_id, w.status,
                exists (select 1 from jobs j where j.workflow_id = w.workflow_id) as has_jobs
            from workflows w
            where w.created_at >= $1
        )
        select p.pipeline_id, p.project_slug
        from pipelines p
        where p.created_at >= $1
            and coalesce(p.state, '') <> 'errored'
            and (
                not exists (select 1 from workflows w where w.pipeline_id = p.pipeline_id)
                or exists (
                    select 1 from recent_workflows w
                    where w.pipeline_id = p.pipeline_id
                        and (w.status in ({unfinished}) or (w.status in ('success', 'failed') and not w.has_jobs))
                )
            )
        """,
        [since],
    )
    settled = _query(
        lake, tables,
        f"""
        select w.workflow_id from workflows w
        where w.created_at >= $1 and w.status not in ({unfinished})
            and exists (select 1 from jobs j where j.workflow_id = w.workflow_id)
        """,
        [_naive(now - timedelta(days=recheck_days + 1))],
    )
    return PipelineState(
        high_water={slug: at for slug, at in high_water},
        recheck={pipeline_id: slug for pipeline_id, slug in recheck},
        settled_workflows=frozenset(w for (w,) in settled),
    )


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def utc_now() -> datetime:
    """The time a pull is made as of: its snapshot day and the start of its windows."""
    return datetime.now(timezone.utc)


# -- the assets (the helpers are shared with `circleci_projects`) --------------------------------


def project_slugs(circleci: CircleCIResource, warehouse: WarehouseResource) -> list[str]:
    """The projects every CircleCI API pull reads (see the module docstring)."""
    return circleci.project_slug_list or usage_project_slugs(warehouse.paths.lake)


def missing_settings(circleci: CircleCIResource, slugs: list[str]) -> list[str]:
    missing = [] if circleci.token else ["CIRCLECI_TOKEN"]
    return missing + ([] if slugs else ["CIRCLECI_PROJECT_SLUGS"])


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
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, tables: tuple[JsonTable, ...],
    pull: PullResult, slugs: list[str],
) -> Iterator[dg.MaterializeResult]:
    """Land what a pull gathered, one result per table; fail (after landing) if a request failed."""
    extracted_at = _naive(utc_now())
    batches = batches_by_table(pull.items, tables)
    with warehouse.write_lock():
        reports = [land_batches(warehouse.paths.lake, t.table, t.schema, batches[t.name], extracted_at) for t in tables]
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


def log_skip(context: dg.AssetExecutionContext, what: str, missing: list[str]) -> None:
    """An unconfigured pull yields nothing: no materialization, so partitions stay missing."""
    context.log.info(f"{what} skipped: {', '.join(missing)} not set")


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
    warehouse: WarehouseResource,
) -> Iterator[dg.MaterializeResult]:
    slugs = project_slugs(circleci, warehouse)
    missing = missing_settings(circleci, slugs)
    if missing:
        log_skip(context, "CircleCI Insights", missing)
        return
    now = utc_now()
    window = InsightsWindow(now, config.history_days, config.lookback_days, tuple(config.reporting_windows))
    state = insights_state(warehouse.paths.lake, now)
    context.log.info(f"CircleCI Insights for {len(slugs)} projects, snapshot {window.snapshot_date}")
    with CircleCIInsightsClient(circleci.token or "", circleci.api_url, policy=retry_policy(circleci, config)) as client:
        pull = pull_insights(client, slugs, window, state)
    yield from land_pull(context, warehouse, INSIGHTS_TABLES, pull, slugs)


@dg.multi_asset(
    name="circleci_pipeline_history",
    specs=asset_specs(PIPELINE_TABLES),
    description="One row per CircleCI pipeline, workflow and job run, pulled incrementally and kept.",
)
def circleci_pipeline_history(
    context: dg.AssetExecutionContext, config: PipelinesConfig, circleci: CircleCIResource,
    warehouse: WarehouseResource,
) -> Iterator[dg.MaterializeResult]:
    slugs = project_slugs(circleci, warehouse)
    missing = missing_settings(circleci, slugs)
    if missing:
        log_skip(context, "CircleCI pipelines", missing)
        return
    now = utc_now()
    window = PipelineWindow(now, config.history_days, config.lookback_days, config.job_details)
    state = pipeline_state(warehouse.paths.lake, now, config.recheck_days)
    context.log.info(
        f"CircleCI pipelines for {len(slugs)} projects; {len(state.recheck)} unfinished pipelines to fetch again"
    )
    with CircleCIPipelinesClient(circleci.token or "", circleci.api_url, policy=retry_policy(circleci, config)) as client:
        pull = pull_pipelines(client, slugs, window, state)
    yield from land_pull(context, warehouse, PIPELINE_TABLES, pull, slugs)


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
    merge = report.merge
    return {
        "projects": dg.MetadataValue.int(len(slugs)),
        "listings": dg.MetadataValue.int(report.batches),
        "rows_read": dg.MetadataValue.int(report.rows_read),
        "rows_landed_new": dg.MetadataValue.int(merge.rows_new),
        "rows_landed_changed": dg.MetadataValue.int(merge.rows_changed),
        "rows_unchanged": dg.MetadataValue.int(merge.rows_unchanged),
        "rows_quarantined": dg.MetadataValue.int(report.rows_quarantined),
        "partitions_written": dg.MetadataValue.int(len(merge.partitions)),
        "failed_requests": dg.MetadataValue.int(len(pull.errors)),
        "skipped_requests": dg.MetadataValue.int(len(pull.skipped)),
        "failures": _failure_table(pull.errors),
        "skipped": _failure_table(pull.skipped),
    }
