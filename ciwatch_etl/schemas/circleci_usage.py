"""What a valid raw CircleCI usage row is (pandera, polars backend), and how to split a batch.

The schema checks typed rows; text that could not be typed at all is caught earlier, while
parsing. A row breaking any rule is quarantined with every rule it broke, the rest land.
Unknown job statuses are not errors: the row lands and the status is counted (and flagged
downstream by `stg_circleci__usage_jobs.is_known_job_status`).
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from ciwatch_etl.schemas.circleci_usage_columns import (
    CREDIT_COLUMNS,
    KNOWN_JOB_STATUSES,
    USAGE_COLUMNS,
    UTILISATION_COLUMNS,
)
from ciwatch_etl.schemas.validation import ValidatedBatch, split_by_schema

_POLARS_TYPES = {
    "text": pl.String,
    "date": pl.Date,
    "timestamp": pl.Datetime("us"),
    "integer": pl.Int64,
    "number": pl.Float64,
    "boolean": pl.Boolean,
}


def _checks(name: str) -> list[pa.Check]:
    if name in CREDIT_COLUMNS or name == "job_run_seconds":
        return [pa.Check.ge(0)]
    if name in UTILISATION_COLUMNS:
        return [pa.Check.in_range(0, 100)]
    if name == "parallelism":
        return [pa.Check.ge(1)]
    if name == "job_id":
        return [pa.Check.str_length(min_value=1)]
    return []


_REQUIRED = {"job_id", "job_run_date", "total_credits"}

USAGE_JOBS_SCHEMA = pa.DataFrameSchema(
    {
        c.name: pa.Column(
            _POLARS_TYPES[c.kind], checks=_checks(c.name), nullable=c.name not in _REQUIRED
        )
        for c in USAGE_COLUMNS
    },
    name="circleci_usage_jobs",
    strict=False,
)


def validate_usage_batch(batch: pl.DataFrame) -> ValidatedBatch:
    """Split one typed usage batch; `flagged` counts rows with an unknown job status."""
    checked = split_by_schema(USAGE_JOBS_SCHEMA, batch, upper_names=True)
    statuses = batch.get_column("job_build_status")
    checked.flagged = int((statuses.is_not_null() & ~statuses.is_in(sorted(KNOWN_JOB_STATUSES))).sum())
    return checked
