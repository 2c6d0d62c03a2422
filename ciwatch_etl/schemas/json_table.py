"""JSON items as typed raw rows: a table declared once as `JsonField`s gives its `RawTable`
columns, its pandera schema and its typed polars frame, so a column cannot be declared in one
place and missed in another.

Values that cannot be typed (a timestamp that is not ISO 8601, a number that is text) become null
with a reason in `_parse_errors`, and the row is quarantined instead of crashing the load. Nested
objects kept whole (errors, trigger parameters, dependencies) are JSON text. Used by every table
fed from a JSON API: CircleCI Insights, pipelines and projects, SourceCraft repositories, gocdnext
projects.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

import pandera.polars as pa
import polars as pl

from ciwatch_etl.landing.raw_table import RawTable
from ciwatch_etl.schemas.circleci_usage_columns import LOAD_COLUMNS

_POLARS = {
    "varchar": pl.String,
    "json": pl.String,
    "id": pl.String,
    "bigint": pl.Int64,
    "double": pl.Float64,
    "boolean": pl.Boolean,
    "timestamp": pl.Datetime("us"),
    "date": pl.Date,
}
_FRACTION = re.compile(r"(\.\d{6})\d+")


@dataclass(frozen=True)
class JsonField:
    """One column: its name, its kind and where its value is.

    `path` is a dotted path into the item (`vcs.commit.subject`), or several separated by `|`
    (the first that is not null wins); "" means the value comes from the request's context (the
    project slug asked for, the snapshot day). Kind `json` keeps a
    nested value whole as JSON text; kind `id` is a stable hash of the comma-separated `path`s
    (a key for items the API gives no id, e.g. one flaky test). `derived_from` names the column a
    date or seconds column is computed from (`created_at` -> `created_date`, ms -> seconds).
    """

    column: str
    kind: str
    path: str = ""
    required: bool = False
    derived_from: str = ""
    min_value: float | None = None

    @property
    def duckdb_type(self) -> str:
        return "varchar" if self.kind in ("json", "id") else self.kind

    @property
    def paths(self) -> tuple[str, ...]:
        """The item paths this column reads (none for context and derived columns)."""
        if self.derived_from or not self.path:
            return ()
        return tuple(self.path.split("," if self.kind == "id" else "|"))


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

    def frame_of(self, pairs: Iterable[tuple[Mapping[str, Any], Mapping[str, Any]]]) -> pl.DataFrame:
        """Typed rows of (item, context) pairs, for items whose context differs."""
        rows = [typed_row(item, self.fields, context) for item, context in pairs]
        schema = {f.column: _POLARS[f.kind] for f in self.fields} | {"_parse_errors": pl.String}
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
    columns = tuple((f.column, f.duckdb_type) for f in fields) + LOAD_COLUMNS
    required = set(key) | ({partition_column} if partition_column else set())
    schema = pa.DataFrameSchema(
        {
            f.column: pa.Column(
                _POLARS[f.kind],
                checks=[pa.Check.ge(f.min_value)] if f.min_value is not None else [],
                nullable=not (f.required or f.column in required),
            )
            for f in fields
        },
        name=name,
        strict=False,
    )
    table = RawTable(
        name=name, lake_path=lake_path, partition_column=partition_column, key=key,
        columns=columns, description=description, column_docs=tuple((f.column, _doc(f)) for f in fields),
    )
    return JsonTable(table, fields, schema)


def _doc(field: JsonField) -> str:
    if field.derived_from:
        return f"Computed from `{field.derived_from}`"
    if not field.path:
        return "From the request or the enclosing item, not this item (the project asked for, the day pulled, the parent run)"
    if field.kind == "id":
        return f"A stable hash of {', '.join(f'`{p}`' for p in field.paths)} (the API gives no id)"
    paths = " or else ".join(f"`{p}`" for p in field.paths)
    return f"The API response's {paths}" + (", as JSON text" if field.kind == "json" else "")


def dig(item: Mapping[str, Any], path: str) -> Any:
    if "|" in path:
        return next((v for p in path.split("|") if (v := dig(item, p)) is not None), None)
    value: Any = item
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def stable_id(*parts: Any) -> str:
    """A short stable hash of values (null and "" differ): a key where the API gives no id."""
    return hashlib.sha1(json.dumps(parts, default=str).encode()).hexdigest()[:20]


def parse_timestamp(text: str) -> datetime:
    """ISO 8601 (`2023-03-25T17:52:15Z`, `...55.306Z`, offsets) as a naive UTC datetime."""
    moment = datetime.fromisoformat(_FRACTION.sub(r"\1", text.strip()))
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment


def _typed(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if value == "" and kind in ("timestamp", "date"):
        return None  # recorded responses say "" for a time they do not know
    if kind == "json":
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    if isinstance(value, (dict, list)):
        raise ValueError("a nested value where a scalar was expected")
    if kind == "varchar":
        return value if isinstance(value, str) else json.dumps(value)
    if kind == "timestamp":
        return value if isinstance(value, datetime) else parse_timestamp(value)
    if kind == "date":
        return value if isinstance(value, date) else date.fromisoformat(value)
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise ValueError("not a boolean")
    if isinstance(value, bool):
        raise ValueError("a boolean where a number was expected")
    if kind == "bigint":
        if isinstance(value, str):
            return int(value.strip())  # e.g. "25": some clients' fixtures quote numbers
        if value != int(value):
            raise ValueError("not a whole number")
        return int(value)
    return float(value)  # double


def typed_row(item: Mapping[str, Any], fields: tuple[JsonField, ...], context: Mapping[str, Any]) -> tuple:
    """The row of one item in field order, then its parse errors ('; '-separated, or None)."""
    values: dict[str, Any] = {}
    errors: list[str] = []
    for field in fields:
        if field.derived_from:
            continue
        if field.kind == "id":
            values[field.column] = stable_id(*(dig(item, p) for p in field.paths))
            continue
        raw = dig(item, field.path) if field.path else context.get(field.column)
        try:
            values[field.column] = _typed(field.kind, raw)
        except (ValueError, TypeError, OverflowError) as exc:
            values[field.column] = None
            errors.append(f"{field.column}: {exc} (got {json.dumps(raw, default=str)[:80]})")
    for field in fields:
        if field.derived_from:
            values[field.column] = _derive(field, values.get(field.derived_from))
    return (*(values[f.column] for f in fields), "; ".join(errors) or None)


def _derive(field: JsonField, source: Any) -> Any:
    if source is None:
        return None
    if field.kind == "date":
        return source.date()
    if field.kind == "double":  # milliseconds to seconds
        return source / 1000.0
    raise ValueError(f"{field.column}: cannot derive a {field.kind} column")


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
