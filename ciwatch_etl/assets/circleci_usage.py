"""Dagster wiring for CircleCI usage exports: daily partitions, the landing asset and its check.

The asset lands what the usage export API gives for its partitions or, when its run config names
files (`ciwatch-etl load-usage`), those files instead: either way Dagster records the load.
"""

import hashlib
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import dagster as dg
import duckdb

from ciwatch_etl.assets.pulls import landed_metadata, skipped
from ciwatch_etl.crash_points import crash_point
from ciwatch_etl.data_folder import DataFolderError
from ciwatch_etl.interrupts import stop_on_signals
from ciwatch_etl.landing.tables import CIRCLECI_USAGE_JOBS
from ciwatch_etl.landing.usage_load import UsageFile, UsageLoadReport, land_usage_files
from ciwatch_etl.owned_folders import OwnedFolder, sweep
from ciwatch_etl.resources import OWNERS, CircleCIResource, DataFolderResource
from ciwatch_etl.sources.circleci.usage_export import DownloadedFile

# The attribute of each "landed" log record holding (file source, rows read): what a progress bar reads.
LANDED_FILE = "ciwatch_landed_file"

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


class UsageFilesConfig(dg.Config):
    # Usage export files a person downloaded, as absolute local paths (`ciwatch-etl load-usage`):
    # landed instead of an export pull. Empty: pull the exports of the run's partitions.
    files: list[str] = []


def local_usage_file(path: Path) -> UsageFile:
    """A local file's quarantine identity is its absolute path: loading it again replaces it."""
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:16]
    return UsageFile(path=path, source=str(path), source_key=f"local-{digest}")


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
    context: dg.AssetExecutionContext, config: UsageFilesConfig, circleci: CircleCIResource,
    data_folder: DataFolderResource,
) -> Iterator[dg.MaterializeResult]:
    if config.files:
        # A signal names itself here (Dagster's own handler would stop the run without saying which).
        with stop_on_signals():
            report = _land(context, data_folder, [local_usage_file(Path(f)) for f in config.files])
    elif skipped(context, "CircleCI usage", circleci.missing_settings):
        return
    else:
        report = _pull(context, circleci, data_folder)
    checks = [flagged_rows_check(report)] if FLAGGED_ROWS_CHECK.key in context.selected_asset_check_keys else []
    yield dg.MaterializeResult(metadata=load_metadata(report), check_results=checks)


def _pull(context: dg.AssetExecutionContext, circleci: CircleCIResource, data_folder: DataFolderResource) -> UsageLoadReport:
    """Export the partitions' days of every org, then land the files; fail after landing if an org failed."""
    window = context.partition_time_window
    start, end = _utc(window.start), _utc(window.end)
    # Downloading takes no write lock (an export may take hours to be ready), so this pull's
    # folder is guarded by a lock of its own; killed pulls' folders are removed now.
    sweep(data_folder.paths.downloads)
    folder = OwnedFolder(data_folder.paths.downloads)
    files: list[DownloadedFile] = []
    failures: dict[str, str] = {}
    try:
        with circleci.usage_client() as client:
            for org_id in circleci.org_id_list:
                context.log.info(
                    f"CircleCI usage export for org {org_id}: {start:%Y-%m-%d} .. {end - timedelta(days=1):%Y-%m-%d}"
                )
                try:
                    files += client.export_usage(org_id, start, end, folder.path)
                except Exception as exc:  # one org failing must not cost the others their data
                    failures[org_id] = str(exc)
                    context.log.error(f"CircleCI usage export for org {org_id} failed: {exc}")
        crash_point("download.finished")
        report = _land(context, data_folder, [UsageFile(f.path, f.name, f.name.removesuffix(".csv.gz")) for f in files])
        crash_point("download.landed")
    finally:
        folder.remove()
    if failures:
        raise dg.Failure(
            description="CircleCI usage export failed for: " + "; ".join(f"{o}: {e}" for o, e in failures.items()),
            metadata=load_metadata(report),
        )
    return report


def _land(context: dg.AssetExecutionContext, data_folder: DataFolderResource, files: list[UsageFile]) -> UsageLoadReport:
    """Land `files` under the write lock, each file logged as it lands (with `LANDED_FILE`)."""
    def landed(file: UsageFile, rows: int) -> None:
        context.log.info(f"landed {file.source}: {rows} rows read", extra={LANDED_FILE: (file.source, rows)})

    try:
        with data_folder.write_lock():
            return land_usage_files(
                data_folder.paths.lake, files, extracted_at=datetime.now(timezone.utc).replace(tzinfo=None), on_file=landed
            )
    except (OSError, duckdb.Error) as exc:  # a full disk, say: the partitions are renamed only once all are written
        raise DataFolderError(f"landing into {data_folder.paths.lake} failed: {' '.join(str(exc).split())}") from None


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
    return {
        "files": dg.MetadataValue.int(report.files),
        "rows_landed": dg.MetadataValue.int(report.rows_landed),
        "rows_flagged": dg.MetadataValue.int(report.rows_flagged),
        **landed_metadata(report),
        "rows_superseded": dg.MetadataValue.int(report.rows_superseded),
        "flags_by_rule": dg.MetadataValue.json(dict(report.flag_rules.most_common())),
        "notes": dg.MetadataValue.md("\n".join(f"- {n}" for n in report.notes) or "none"),
    }
