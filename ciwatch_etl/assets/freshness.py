"""Freshness checks: one per source, warning when the newest row landed is older than it should be.

A green run says a pull succeeded; these say data arrived. Each reads the newest event time in
the lake (not when the pull ran), so a source that answers but has stopped sending new runs, or
an export that lags, shows as a warning beside the asset.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb

from ciwatch_etl.schemas.raw_table import RawTable
from ciwatch_etl.landing.tables import CIRCLECI_USAGE_JOBS
from ciwatch_etl.resources import DataFolderResource
from ciwatch_etl.schemas.circleci_pipelines import WORKFLOWS
from ciwatch_etl.schemas.gocdnext import GOCDNEXT_RUNS
from ciwatch_etl.schemas.sourcecraft import SOURCECRAFT_RUNS

CHECK_NAME = "is_fresh"


@dataclass(frozen=True)
class Freshness:
    table: RawTable
    column: str  # the event time (naive UTC) whose newest value is looked at
    max_age: timedelta
    what: str


FRESHNESS = (
    # Usage exports lag by hours; two days without a new job means the export stopped arriving.
    Freshness(CIRCLECI_USAGE_JOBS, "job_run_started_at", timedelta(days=2), "newest job run in the usage export"),
    # Runs: a quiet weekend without pushes is not stale, a third day is.
    Freshness(WORKFLOWS.table, "created_at", timedelta(days=3), "newest CircleCI workflow run"),
    Freshness(SOURCECRAFT_RUNS, "created_at", timedelta(days=3), "newest SourceCraft CI run"),
    Freshness(GOCDNEXT_RUNS, "created_at", timedelta(days=3), "newest gocdnext run"),
)


def utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def newest(lake_table: RawTable, column: str, lake: Path) -> datetime | None:
    """The newest value of `column` in the lake's files of the table (None when nothing landed)."""
    files = [str(f) for f in lake_table.data_files(lake)]
    if not files:
        return None
    with duckdb.connect() as con:
        (value,) = con.execute(
            f"select max({column}) from read_parquet($files, union_by_name = true, hive_partitioning = false)",
            {"files": files},
        ).fetchone()
    return value


def freshness_result(freshness: Freshness, newest_at: datetime | None, now: datetime) -> dg.AssetCheckResult:
    """Passes when the newest row is at most `max_age` old; otherwise a warning saying how old."""
    limit = f"{freshness.max_age.total_seconds() / 86400:g} days"
    if newest_at is None:
        return dg.AssetCheckResult(
            passed=False, severity=dg.AssetCheckSeverity.WARN,
            description=f"no rows landed: no {freshness.what} to date",
            metadata={"max_age": limit},
        )
    age = now - newest_at
    passed = age <= freshness.max_age
    return dg.AssetCheckResult(
        passed=passed,
        severity=dg.AssetCheckSeverity.WARN,
        description=f"{freshness.what}: {newest_at:%Y-%m-%d %H:%M} UTC, {age.total_seconds() / 3600:.1f} h old "
                    f"({'within' if passed else 'older than'} {limit})",
        metadata={
            "newest_at": dg.MetadataValue.text(f"{newest_at:%Y-%m-%d %H:%M:%S}"),
            "age_hours": dg.MetadataValue.float(round(age.total_seconds() / 3600, 1)),
            "max_age": limit,
        },
    )


def _check(freshness: Freshness) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=freshness.table.name,
        name=CHECK_NAME,
        description=f"Warns when the {freshness.what} is older than {freshness.max_age.days} days.",
    )
    def is_fresh(data_folder: DataFolderResource) -> dg.AssetCheckResult:
        return freshness_result(freshness, newest(freshness.table, freshness.column, data_folder.paths.lake), utc_now())

    return is_fresh


def freshness_checks() -> list[dg.AssetChecksDefinition]:
    return [_check(freshness) for freshness in FRESHNESS]
