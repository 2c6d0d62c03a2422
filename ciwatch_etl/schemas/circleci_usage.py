"""What a valid raw CircleCI usage row is (pandera, polars backend), and how to split a batch.

The schema checks typed rows; text that could not be typed at all is caught earlier, while
parsing. A row breaking any rule is quarantined with every rule it broke, the rest land.
Unknown job statuses are not errors: the row lands and the status is counted (and flagged
downstream by `stg_circleci__usage_jobs.is_known_job_status`).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandera.polars as pa
import polars as pl

from ciwatch_etl.schemas.circleci_usage_columns import (
    CREDIT_COLUMNS,
    KNOWN_JOB_STATUSES,
    USAGE_COLUMNS,
    UTILISATION_COLUMNS,
)

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


@dataclass
class ValidatedBatch:
    valid: pl.DataFrame
    rejected: pl.DataFrame  # the rejected rows plus a `_reason` column
    unknown_statuses: int


def validate_usage_batch(batch: pl.DataFrame) -> ValidatedBatch:
    """Split one typed batch into rows that land and rows for quarantine (with reasons).

    `batch` carries `_parse_errors` (from parsing) next to the usage columns.
    """
    reasons = batch.select(pl.col("_parse_errors").alias("_reason")).with_row_index("_i")
    try:
        USAGE_JOBS_SCHEMA.validate(batch, lazy=True)
    except pa.errors.SchemaErrors as exc:
        failures = exc.failure_cases
        if failures.filter(pl.col("index").is_null()).height:
            raise ValueError(f"usage batch failed schema-level checks:\n{failures}") from None
        per_row = (
            failures.with_columns(
                pl.format(
                    "{}: {} (got {})",
                    pl.col("column").str.to_uppercase(),
                    pl.col("check"),
                    pl.col("failure_case").fill_null("null"),
                ).alias("_rule")
            )
            .group_by(pl.col("index").cast(pl.UInt32).alias("_i"))
            .agg(pl.col("_rule").str.join("; "))
        )
        reasons = reasons.join(per_row, on="_i", how="left").select(
            "_i",
            pl.when(pl.col("_reason").is_null() & pl.col("_rule").is_null())
            .then(None)
            .otherwise(pl.concat_str(["_reason", "_rule"], separator="; ", ignore_nulls=True))
            .alias("_reason"),
        )
    bad = reasons.get_column("_reason").is_not_null()
    rows = batch.drop("_parse_errors")
    statuses = rows.get_column("job_build_status")
    unknown = int((statuses.is_not_null() & ~statuses.is_in(sorted(KNOWN_JOB_STATUSES))).sum())
    return ValidatedBatch(
        valid=rows.filter(~bad),
        rejected=rows.filter(bad).with_columns(reasons.get_column("_reason").filter(bad)),
        unknown_statuses=unknown,
    )
