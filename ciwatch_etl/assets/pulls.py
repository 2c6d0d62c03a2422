"""What every source asset does alike: skip when its settings are missing, and report a landed
table's row counts as Dagster metadata."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import dagster as dg

from ciwatch_etl.landing.lake import MergeReport


class LandingReport(Protocol):
    """What a load of records (`RecordLoadReport`) and of usage files (`UsageLoadReport`) both tell."""

    rows_read: int
    rows_quarantined: int
    merge: MergeReport


def skipped(context: dg.AssetExecutionContext, source: str, missing: Sequence[str]) -> bool:
    """Whether the pull must stop now for lack of settings, saying which on one line.

    A skipped pull yields nothing: no materialization, so the tables' last one stays the last data
    that arrived, and a partitioned asset's partitions stay missing.
    """
    if missing:
        context.log.info(f"{source} skipped: {', '.join(missing)} not set")
    return bool(missing)


def landed_metadata(report: LandingReport) -> dict[str, dg.MetadataValue]:
    """Row counts of one table's load, under the same keys for every source."""
    merge = report.merge
    return {
        "rows_read": dg.MetadataValue.int(report.rows_read),
        "rows_landed_new": dg.MetadataValue.int(merge.rows_new),
        "rows_landed_changed": dg.MetadataValue.int(merge.rows_changed),
        "rows_unchanged": dg.MetadataValue.int(merge.rows_unchanged),
        "rows_quarantined": dg.MetadataValue.int(report.rows_quarantined),
        "partitions_written": dg.MetadataValue.int(len(merge.partitions)),
    }
