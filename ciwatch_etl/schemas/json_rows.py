"""JSON items as typed rows, for every provider: a column declared once as a `JsonField` (its
name, its kind, where its value is in the item) is read, typed and checked here.

Values that cannot be typed (a timestamp that is not ISO 8601, a number that is text) become null
with a reason in `_parse_errors`, and the row is quarantined instead of crashing the load. Nested
objects kept whole (errors, trigger parameters, dependencies) are JSON text.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from ciwatch_etl.sources.timestamps import parse_timestamp


Compute = Callable[[Mapping[str, Any], Mapping[str, Any]], Any]  # (item, row read so far) -> value


@dataclass(frozen=True)
class JsonField:
    """One column: its name, its kind and where its value is.

    `path` is a dotted path into the item (`vcs.commit.subject`), or several separated by `|`
    (the first that is not null wins); "" means the value comes from the request's context (the
    project slug asked for, the snapshot day). Kind `json` keeps a
    nested value whole as JSON text; kind `id` is a stable hash of the comma-separated `path`s
    (a key for items the API gives no id, e.g. one flaky test). `derived_from` names the column a
    date or seconds column is computed from (`created_at` -> `created_date`, ms -> seconds).
    `compute` is for a value no path or single column gives (a duration from two times, a count
    of nested items): called with the item and the row read so far (its other columns, then the
    context), after every column that has a path.
    """

    column: str
    kind: str
    path: str = ""
    required: bool = False
    derived_from: str = ""
    min_value: float | None = None
    compute: Compute | None = None

    @property
    def duckdb_type(self) -> str:
        return "varchar" if self.kind in ("json", "id") else self.kind

    @property
    def paths(self) -> tuple[str, ...]:
        """The item paths this column reads (none for context, derived and computed columns)."""
        if self.derived_from or self.compute or not self.path:
            return ()
        return tuple(self.path.split("," if self.kind == "id" else "|"))


def columns_of(fields: tuple[JsonField, ...]) -> tuple[tuple[str, str], ...]:
    """(name, DuckDB type) of each field, in order: a table's business columns."""
    return tuple((f.column, f.duckdb_type) for f in fields)


def text_fields(**paths: str) -> tuple[JsonField, ...]:
    """Text columns read as the item gives them, `column="path"` each, in order."""
    return tuple(JsonField(column, "varchar", path) for column, path in paths.items())


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
        if field.derived_from or field.compute:
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
        elif field.compute:
            values[field.column] = field.compute(item, {**context, **values})
    return (*(values[f.column] for f in fields), "; ".join(errors) or None)


def _derive(field: JsonField, source: Any) -> Any:
    if source is None:
        return None
    if field.kind == "date":
        return source.date()
    if field.kind == "double":  # milliseconds to seconds
        return source / 1000.0
    raise ValueError(f"{field.column}: cannot derive a {field.kind} column")
