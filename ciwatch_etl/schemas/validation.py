"""Split a typed batch by a pandera schema: rows that land, and rows for quarantine with reasons.

Shared by every source. A batch may carry `_parse_errors` (text that could not be typed, found
while parsing); those reasons are joined with every rule the row breaks in the schema.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandera.polars as pa
import polars as pl


@dataclass
class ValidatedBatch:
    valid: pl.DataFrame
    rejected: pl.DataFrame  # the rejected rows plus a `_reason` column
    flagged: int = 0  # rows that land but deserve a count in metadata (e.g. unknown statuses)


def split_by_schema(schema: pa.DataFrameSchema, batch: pl.DataFrame, upper_names: bool = False) -> ValidatedBatch:
    """Rows passing `schema` and rows failing it; `upper_names` names columns as CSV headers do."""
    if "_parse_errors" not in batch.columns:
        batch = batch.with_columns(pl.lit(None, dtype=pl.String).alias("_parse_errors"))
    reasons = batch.select(pl.col("_parse_errors").alias("_reason")).with_row_index("_i")
    try:
        schema.validate(batch, lazy=True)
    except pa.errors.SchemaErrors as exc:
        failures = exc.failure_cases
        if failures.filter(pl.col("index").is_null()).height:
            raise ValueError(f"{schema.name}: batch failed schema-level checks:\n{failures}") from None
        per_row = (
            failures.with_columns(
                pl.format(
                    "{}: {} (got {})",
                    pl.col("column").str.to_uppercase() if upper_names else pl.col("column"),
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
    return ValidatedBatch(
        valid=rows.filter(~bad),
        rejected=rows.filter(bad).with_columns(reasons.get_column("_reason").filter(bad)),
    )
