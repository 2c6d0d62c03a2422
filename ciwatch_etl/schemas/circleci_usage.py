"""What a raw CircleCI usage row must be (pandera, polars backend): billing rules and quality rules.

Credits are sacred: a row is quarantined only when a billing field is unusable
(`BILLING_SCHEMA`: job id, job run date, organization, project, every credit column). Every
other rule (`QUALITY_SCHEMA`) flags the row: it lands, with the rules it broke in
`_quality_flags`, so credits never disappear for a reason finance does not care about.

Both schemas check typed columns (lower-case names); text that could not be typed at all is
named while typing (`landing.usage_typing`) and sorted into billing or quality the same way.
"""

from __future__ import annotations

from datetime import date

import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData

from ciwatch_etl.schemas.circleci_usage_columns import (
    CREDIT_COLUMNS,
    KNOWN_JOB_STATUSES,
    UTILISATION_COLUMNS,
)

MAX_CREDITS = 1e9  # credits of one job run; CircleCI's largest plans bill millions a month
MAX_ID_CHARS = 1024  # an id or project name longer than this is not one
# The days a usage row may bill: CircleCI was founded in 2011, and a later day than 2099 is a
# typo or a sentinel (9999-12-31), not a bill; both would make partitions no report can name.
EARLIEST_DAY = date(2011, 1, 1)
LATEST_DAY = date(2099, 12, 31)


def _credit_column(name: str) -> pa.Column:
    return pa.Column(
        pl.Float64,
        # One range check rejects negative, absurd and non-finite credits (NaN and ±inf are
        # outside every range).
        checks=[pa.Check.in_range(0, MAX_CREDITS)],
        # A job is billed by its total; a credit type left empty was not charged.
        nullable=name != "total_credits",
    )


def _id_column(nullable: bool) -> pa.Column:
    return pa.Column(pl.String, checks=[pa.Check.str_length(1, MAX_ID_CHARS)], nullable=nullable)


def _project_named(data: PolarsData) -> pl.LazyFrame:
    return data.lazyframe.select(pl.col("project_id").is_not_null() | pl.col("project_name").is_not_null())


BILLING_SCHEMA = pa.DataFrameSchema(
    {
        "job_id": _id_column(nullable=False),
        "job_run_date": pa.Column(pl.Date, checks=[pa.Check.in_range(EARLIEST_DAY, LATEST_DAY)], nullable=False),
        "organization_id": _id_column(nullable=False),
        "project_id": _id_column(nullable=True),
        "project_name": _id_column(nullable=True),
        **{name: _credit_column(name) for name in CREDIT_COLUMNS},
    },
    checks=[pa.Check(_project_named, name="PROJECT_ID and PROJECT_NAME both empty")],
    name="circleci_usage_jobs billing",
    strict=False,
)


_ORDERED = (
    ("job_run_queued_at", "job_run_started_at"),
    ("job_run_started_at", "job_run_stopped_at"),
    ("workflow_first_job_queued_at", "workflow_first_job_started_at"),
    ("workflow_first_job_started_at", "workflow_stopped_at"),
)


def _in_order(earlier: str, later: str) -> pa.Check:
    def check(data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select((pl.col(earlier) <= pl.col(later)).fill_null(True))

    return pa.Check(check, name=f"timestamps out of order: {later.upper()} before {earlier.upper()}")


QUALITY_SCHEMA = pa.DataFrameSchema(
    {
        **{name: pa.Column(pl.Float64, pa.Check.in_range(0, 100), nullable=True) for name in UTILISATION_COLUMNS},
        "job_run_seconds": pa.Column(pl.Float64, pa.Check.ge(0), nullable=True),
        "parallelism": pa.Column(pl.Int64, pa.Check.ge(1), nullable=True),
        "job_build_status": pa.Column(
            pl.String, pa.Check.isin(sorted(KNOWN_JOB_STATUSES), error="not a known job status"), nullable=True
        ),
    },
    checks=[_in_order(earlier, later) for earlier, later in _ORDERED],
    name="circleci_usage_jobs quality",
    strict=False,
)

# The columns each schema reads (its own and those of its frame-wide checks).
BILLING_INPUT: tuple[str, ...] = tuple(BILLING_SCHEMA.columns)
QUALITY_INPUT: tuple[str, ...] = (*QUALITY_SCHEMA.columns, *dict.fromkeys(c for pair in _ORDERED for c in pair))
