"""Dagster wiring for CircleCI usage exports: resource, daily partitions, the landing asset."""

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import dagster as dg

from ciwatch_etl.crash_points import crash_point
from ciwatch_etl.landing.tables import CIRCLECI_USAGE_JOBS
from ciwatch_etl.landing.usage_load import UsageFile, UsageLoadReport, land_usage_files
from ciwatch_etl.owned_folders import OwnedFolder, sweep
from ciwatch_etl.resources import OWNERS, WarehouseResource
from ciwatch_etl.sources.circleci.usage_export import (
    DEFAULT_API_URL,
    CircleCIUsageClient,
    DownloadedFile,
)
from ciwatch_etl.sources.http import RetryPolicy

# Usage exports reach back about a year; partitions start far enough back for a full backfill.
DAILY_PARTITIONS = dg.DailyPartitionsDefinition(start_date="2025-01-01", timezone="UTC")

FLAGGED_ROWS_CHECK = dg.AssetCheckSpec(
    "no_flagged_rows",
    asset=CIRCLECI_USAGE_JOBS.name,
    description=(
        "Rows this load landed that broke a quality rule (utilisation outside 0-100, unknown job "
        "status, negative seconds, timestamps out of order, invalid UTF-8, values that did not "
        "type...). They land, with the rules in `_quality_flags`: a warning, never lost credits."
    ),
)


class CircleCIResource(dg.ConfigurableResource):
    """CircleCI API v2 access. `token` arrives only through `EnvVar("CIRCLECI_TOKEN")`."""

    token: str | None = None
    api_url: str = DEFAULT_API_URL
    org_ids: str = ""  # comma-separated organization ids (CIRCLECI_ORG_IDS)
    # Comma-separated project slugs for Insights and pipelines (CIRCLECI_PROJECT_SLUGS), e.g.
    # gh/acme/api; when empty, the projects seen in the landed usage exports are used.
    project_slugs: str = ""
    poll_interval_seconds: float = 5.0
    retry_after_cap_seconds: float = 120.0

    @property
    def org_id_list(self) -> list[str]:
        return [o.strip() for o in self.org_ids.split(",") if o.strip()]

    @property
    def project_slug_list(self) -> list[str]:
        return [s.strip() for s in self.project_slugs.split(",") if s.strip()]

    @property
    def missing_settings(self) -> list[str]:
        missing = [] if self.token else ["CIRCLECI_TOKEN"]
        return missing + ([] if self.org_id_list else ["CIRCLECI_ORG_IDS"])

    def usage_client(self) -> CircleCIUsageClient:
        return CircleCIUsageClient(
            self.token or "",
            self.api_url,
            poll_interval_seconds=self.poll_interval_seconds,
            policy=RetryPolicy(retry_after_cap_seconds=self.retry_after_cap_seconds),
        )


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc)


@dg.multi_asset(
    name=CIRCLECI_USAGE_JOBS.name,
    specs=[
        dg.AssetSpec(
            CIRCLECI_USAGE_JOBS.name,
            group_name="circleci",
            kinds={"circleci", "polars", "parquet"},
            owners=OWNERS,
            skippable=True,  # an unconfigured pull materializes nothing: its partitions stay missing
            description=(
                "One row per CircleCI job run, from the usage export (billing-grade credits). "
                "Landed as Parquet per job-run day; the latest export of a job wins."
            ),
        )
    ],
    partitions_def=DAILY_PARTITIONS,
    # A backfill of many days is one run: one export per 31-day window, not one per day
    # (CircleCI allows 10 export creations per hour per org).
    backfill_policy=dg.BackfillPolicy.single_run(),
    check_specs=[FLAGGED_ROWS_CHECK],
    # Subsettable only so that a skipped pull may leave out its check's result too.
    can_subset=True,
)
def circleci_usage_jobs(
    context: dg.AssetExecutionContext, circleci: CircleCIResource, warehouse: WarehouseResource
) -> Iterator[dg.MaterializeResult]:
    missing = circleci.missing_settings
    if missing:
        context.log.info(f"CircleCI usage skipped: {', '.join(missing)} not set")
        return
    window = context.partition_time_window
    start, end = _utc(window.start), _utc(window.end)
    # Downloading takes no write lock (an export may take hours to be ready), so this pull's
    # folder is guarded by a lock of its own; killed pulls' folders are removed now.
    sweep(warehouse.paths.downloads)
    folder = OwnedFolder(warehouse.paths.downloads)
    downloads = folder.path
    files: list[DownloadedFile] = []
    failures: dict[str, str] = {}
    try:
        with circleci.usage_client() as client:
            for org_id in circleci.org_id_list:
                context.log.info(
                    f"CircleCI usage export for org {org_id}: {start:%Y-%m-%d} .. {end - timedelta(days=1):%Y-%m-%d}"
                )
                try:
                    files += client.export_usage(org_id, start, end, downloads)
                except Exception as exc:  # one org failing must not cost the others their data
                    failures[org_id] = str(exc)
                    context.log.error(f"CircleCI usage export for org {org_id} failed: {exc}")
        crash_point("download.finished")
        with warehouse.write_lock():
            report = land_usage_files(
                warehouse.paths.lake,
                [UsageFile(f.path, f.name, f.name.removesuffix(".csv.gz")) for f in files],
                extracted_at=datetime.now(timezone.utc).replace(tzinfo=None),
                on_file=lambda f, rows: context.log.info(f"landed {f.source}: {rows} rows read"),
            )
        crash_point("download.landed")
    finally:
        folder.remove()
    if failures:
        raise dg.Failure(
            description="CircleCI usage export failed for: " + "; ".join(f"{o}: {e}" for o, e in failures.items()),
            metadata=load_metadata(report),
        )
    checks = [flagged_rows_check(report)] if FLAGGED_ROWS_CHECK.key in context.selected_asset_check_keys else []
    yield dg.MaterializeResult(metadata=load_metadata(report), check_results=checks)


def flagged_rows_check(report: UsageLoadReport) -> dg.AssetCheckResult:
    """Warns with the count of flagged rows (by rule); passes when the load flagged none."""
    flagged = report.rows_flagged
    return dg.AssetCheckResult(
        check_name=FLAGGED_ROWS_CHECK.name,
        passed=flagged == 0,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "rows_flagged": dg.MetadataValue.int(flagged),
            "rows_landed": dg.MetadataValue.int(report.rows_landed),
            "flags_by_rule": dg.MetadataValue.json(dict(report.flag_rules.most_common())),
        },
    )


def load_metadata(report: UsageLoadReport) -> dict[str, dg.MetadataValue]:
    """Row counts of one load, for Dagster metadata and the CLI summary.

    rows_read = rows_landed + rows_quarantined; rows_landed = new + changed + unchanged + superseded.
    """
    merge = report.merge
    return {
        "files": dg.MetadataValue.int(report.files),
        "rows_read": dg.MetadataValue.int(report.rows_read),
        "rows_landed": dg.MetadataValue.int(report.rows_landed),
        "rows_quarantined": dg.MetadataValue.int(report.rows_quarantined),
        "rows_flagged": dg.MetadataValue.int(report.rows_flagged),
        "rows_landed_new": dg.MetadataValue.int(merge.rows_new),
        "rows_landed_changed": dg.MetadataValue.int(merge.rows_changed),
        "rows_unchanged": dg.MetadataValue.int(merge.rows_unchanged),
        "rows_superseded": dg.MetadataValue.int(report.rows_superseded),
        "flags_by_rule": dg.MetadataValue.json(dict(report.flag_rules.most_common())),
        "partitions_written": dg.MetadataValue.int(len(merge.partitions)),
        "notes": dg.MetadataValue.md("\n".join(f"- {n}" for n in report.notes) or "none"),
    }
