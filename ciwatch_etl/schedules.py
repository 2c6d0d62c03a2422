"""The nightly run: recent usage partitions of every configured source, then every SQL model."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import dagster as dg

# Jobs still running at the previous night's pull, and exports that lag by a few hours, land
# with their final credits when the last few days are pulled again (re-landing is idempotent).
LOOKBACK_DAYS = 2

nightly_job = dg.define_asset_job(
    "nightly",
    selection=dg.AssetSelection.all(),
    description="Pull the last days of every configured source, then rebuild the warehouse.",
)


def build_nightly_schedule(
    selection: tuple[Sequence[dg.AssetKey], Sequence[dg.AssetCheckKey]] | None = None,
    skipped: Sequence[str] = (),
    partitioned: bool = True,
) -> dg.ScheduleDefinition:
    """The nightly schedule, its runs narrowed to `selection`'s assets and checks (default: the whole job).

    `selection` leaves out the pulls that are not configured (see `source_status`): a pull that
    materializes nothing would make Dagster skip the SQL models downstream of it. `skipped` holds
    their one-line reasons, logged at each evaluation; `partitioned` says whether a partitioned
    asset is left, which is what the partition range tags are for.
    """

    @dg.schedule(
        job=nightly_job,
        cron_schedule="0 2 * * *",  # nightly at 02:00 UTC
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        name="nightly_schedule",
    )
    def nightly_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        for line in skipped:
            context.log.info(line)
        yesterday = (context.scheduled_execution_time - timedelta(days=1)).date()
        first = yesterday - timedelta(days=LOOKBACK_DAYS)
        tags = {
            "dagster/asset_partition_range_start": first.isoformat(),
            "dagster/asset_partition_range_end": yesterday.isoformat(),
        }
        return dg.RunRequest(
            run_key=yesterday.isoformat(),
            tags=tags if partitioned else {},
            asset_selection=list(selection[0]) if selection is not None else None,
            asset_check_keys=list(selection[1]) if selection is not None else None,
        )

    return nightly_schedule


nightly_schedule = build_nightly_schedule()
