"""A raw table fed from JSON items, declared once as `JsonField`s: its `RawTable` columns, its
pandera schema and its typed polars frame all come from that one declaration, so a column cannot
be declared in one place and missed in another.

Used by every table fed from a JSON API: CircleCI Insights, pipelines and projects, SourceCraft
repositories, gocdnext projects. Reading a field out of an item is `json_rows`'s.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandera.polars as pa
import polars as pl

from ciwatch_etl.schemas.circleci_usage_columns import LOAD_COLUMNS
from ciwatch_etl.schemas.declared import row_types, table_schema
from ciwatch_etl.schemas.json_rows import JsonField, columns_of, typed_row
from ciwatch_etl.schemas.raw_table import RawTable

Pairs = Iterable[tuple[Mapping[str, Any], Mapping[str, Any]]]  # (item, its request's context)


@dataclass(frozen=True)
class JsonTable:
    """A raw table fed from JSON items: its fields, lake table and pandera schema."""

    table: RawTable
    fields: tuple[JsonField, ...]
    schema: pa.DataFrameSchema

    @property
    def name(self) -> str:
        return self.table.name

    def frame(self, items: Iterable[Mapping[str, Any]], context: Mapping[str, Any] | None = None) -> pl.DataFrame:
        """Typed rows (the table's business columns and `_parse_errors`) of these items."""
        return self.frame_of((item, context or {}) for item in items)

    def frame_of(self, pairs: Pairs) -> pl.DataFrame:
        """Typed rows of (item, context) pairs, for items whose context differs."""
        rows = [typed_row(item, self.fields, context) for item, context in pairs]
        schema = row_types(self.table)
        return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)

    def covered_paths(self) -> tuple[str, ...]:
        return tuple(p for f in self.fields for p in f.paths)

    def json_paths(self) -> tuple[str, ...]:
        """Paths kept whole as JSON text: everything below them lands too."""
        return tuple(p for f in self.fields if f.kind == "json" for p in f.paths)


def json_table(
    name: str, lake_path: str, partition_column: str | None, key: tuple[str, ...], description: str,
    fields: tuple[JsonField, ...],
) -> JsonTable:
    """A table of JSON items; `partition_column` None makes it a dimension (see `RawTable`)."""
    table = RawTable(
        name=name, lake_path=lake_path, partition_column=partition_column, key=key,
        columns=columns_of(fields) + LOAD_COLUMNS, description=description,
        column_docs=tuple((f.column, _doc(f)) for f in fields),
    )
    checks = {f.column: [pa.Check.ge(f.min_value)] for f in fields if f.min_value is not None}
    return JsonTable(table, fields, table_schema(table, checks, {f.column for f in fields if f.required}))


def _doc(field: JsonField) -> str:
    if field.derived_from:
        return f"Computed from `{field.derived_from}`"
    if field.compute:
        return "Computed from several values of the item"
    if not field.path:
        return "From the request or the enclosing item, not this item (the project asked for, the day pulled, the parent run)"
    if field.kind == "id":
        return f"A stable hash of {', '.join(f'`{p}`' for p in field.paths)} (the API gives no id)"
    paths = " or else ".join(f"`{p}`" for p in field.paths)
    return f"The API response's {paths}" + (", as JSON text" if field.kind == "json" else "")


def leaf_paths(value: Any, prefix: str = "") -> set[str]:
    """Every leaf of a JSON value as a dotted path; list elements add `[]` (`errors[].type`)."""
    if isinstance(value, Mapping):
        if not value and prefix:
            return {prefix}
        return {p for k, v in value.items() for p in leaf_paths(v, f"{prefix}.{k}" if prefix else k)}
    if isinstance(value, list):
        return {prefix + "[]"} if not value else {p for v in value for p in leaf_paths(v, prefix + "[]")}
    return {prefix}


def uncovered_paths(item: Mapping[str, Any], table: JsonTable, ignored: Iterable[str] = ()) -> set[str]:
    """Leaves of `item` that land in no column of `table` and are not listed as ignored."""
    covered = set(table.covered_paths()) | set(ignored)
    kept_whole = table.json_paths()
    return {
        p for p in leaf_paths(item)
        if p not in covered and not any(p == k or p.startswith((k + ".", k + "[]")) for k in kept_whole)
    }
