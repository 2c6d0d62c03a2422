"""From a raw table's declared columns to what a valid row is (pandera) and its typed frame (polars).

Every raw table fed from an API declares its columns once, as (name, DuckDB type) pairs on its
`RawTable`; its pandera schema and the polars types its rows are built with come from that
declaration here, so a column cannot be typed one way in the lake and another in validation.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import pandera.polars as pa
import polars as pl

from ciwatch_etl.schemas.raw_table import RawTable

PolarsType = pl.DataType | type[pl.DataType]

POLARS_TYPES: dict[str, PolarsType] = {
    "varchar": pl.String,
    "bigint": pl.Int64,
    "double": pl.Float64,
    "boolean": pl.Boolean,
    "timestamp": pl.Datetime("us"),
    "date": pl.Date,
}


def business_columns(table: RawTable) -> tuple[tuple[str, str], ...]:
    """The columns a source fills (the landing adds the `_`-prefixed ones)."""
    return tuple((name, kind) for name, kind in table.columns if not name.startswith("_"))


def row_types(table: RawTable) -> dict[str, PolarsType]:
    """The polars types of a table's typed rows: its business columns, then `_parse_errors`
    (values a source could not read, which quarantine their row)."""
    return {name: POLARS_TYPES[kind] for name, kind in business_columns(table)} | {"_parse_errors": pl.String}


def table_schema(
    table: RawTable, checks: Mapping[str, Sequence[pa.Check]] | None = None, required: Collection[str] = (),
) -> pa.DataFrameSchema:
    """The pandera schema of a table's business columns, typed as declared.

    `checks` by column name (names the table lacks are ignored, so one set of rules can serve
    several tables); the key, the partition column and `required` may not be null.
    """
    checks = checks or {}
    not_null = {*table.key, *required} | ({table.partition_column} if table.partition_column else set())
    return pa.DataFrameSchema(
        {
            name: pa.Column(POLARS_TYPES[kind], checks=list(checks.get(name, ())), nullable=name not in not_null)
            for name, kind in business_columns(table)
        },
        name=table.name,
        strict=False,
    )
