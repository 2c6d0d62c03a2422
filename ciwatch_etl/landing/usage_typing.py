"""Type the text of one batch of usage export fields, and name every value that does not type.

Each column is typed explicitly by its declared kind (never guessed from the data): dates
`YYYY-MM-DD`, timestamps `YYYY-MM-DD HH:MM[:SS[.fff]]` (UTC; a bare date is midnight), numbers,
integers, booleans (true/false, t/f, y/n, yes/no, 1/0, any case). Most batches arrive typed
already (Arrow types dates, timestamps and numbers while parsing, `usage_reader`); a batch that
comes as text is typed here: timestamps by Arrow's ISO 8601 cast (four times faster than polars'
strptime), and any column where some value fails is typed a second time, leniently (surrounding
spaces, `T` and `Z`, `5.0` as an integer). A value that still does not type becomes null and is
named in `_unparsed_billing` or `_unparsed_other` (billing columns decide quarantine, the others
only flag the row). A text value over 64 KiB (a 10 MB job name, say) keeps its first
TRUNCATED_CHARS characters and is named in `_truncated`; an id truncated so is still too long
for the billing rules, so such a row is quarantined instead.

A value that types but no job can have is no value either: outside the billing columns (whose
rules quarantine, `schemas.circleci_usage`), a number that is NaN, infinite or beyond
±MAX_NUMBER, and a date or timestamp outside EARLIEST_DAY .. LATEST_DAY, become null and are
named in `_out_of_bounds`: the row lands flagged, and the value never reaches a sum or a duration.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time, timedelta

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from ciwatch_etl.landing.usage_dialect import NEWLINE_MARK
from ciwatch_etl.schemas.circleci_usage import EARLIEST_DAY, LATEST_DAY, MAX_CREDITS
from ciwatch_etl.schemas.circleci_usage_columns import BILLING_COLUMNS, USAGE_COLUMNS, UsageColumn

MAX_TEXT_BYTES = 65_536  # a longer text value is truncated, and the row flagged
TRUNCATED_CHARS = MAX_TEXT_BYTES // 4  # what is kept: at most 64 KiB even in 4-byte characters
_SHOWN = 60  # characters of an untyped value quoted in its reason
_TRUE = ["true", "t", "y", "yes", "1"]
_FALSE = ["false", "f", "n", "no", "0"]
_BOOLEANS = {**dict.fromkeys(_TRUE, True), **dict.fromkeys(_FALSE, False)}
_TIMESTAMPS = ("%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M", "%Y-%m-%d")
_KIND_LABEL = {
    "date": "a date",
    "timestamp": "a timestamp",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
}
TYPED = tuple(c for c in USAGE_COLUMNS if c.kind != "text")
TIMESTAMPS = tuple(c for c in USAGE_COLUMNS if c.kind == "timestamp")
TEXT = tuple(c for c in USAGE_COLUMNS if c.kind == "text")
# The bound of every other number (seconds, percentages): the credits' own, 1e9 (31 years of
# seconds), so that no sum over a year of rows can overflow to infinity.
MAX_NUMBER = MAX_CREDITS
BOUNDED = tuple(c for c in USAGE_COLUMNS if c.kind in ("number", "date", "timestamp") and c.name not in BILLING_COLUMNS)
_MAX_LABEL = f"{MAX_NUMBER:.0e}".replace("e+0", "e").replace("e+", "e")
_FIRST_MOMENT = datetime.combine(EARLIEST_DAY, time())
_PAST_LAST_MOMENT = datetime.combine(LATEST_DAY + timedelta(days=1), time())


def _parse(column: UsageColumn, raw: pl.Expr) -> pl.Expr:
    if column.kind == "date":
        return raw.str.to_date("%Y-%m-%d", strict=False)
    if column.kind == "timestamp":
        # The shapes Arrow's cast accepts: with seconds and fraction, minutes only, or a date.
        return pl.coalesce(raw.str.to_datetime(f, time_unit="us", strict=False) for f in _TIMESTAMPS)
    if column.kind == "integer":
        return raw.cast(pl.Int64, strict=False)
    if column.kind == "number":
        return raw.cast(pl.Float64, strict=False)
    return raw.str.to_lowercase().replace_strict(_BOOLEANS, default=None, return_dtype=pl.Boolean)


def _parse_lenient(column: UsageColumn, raw: pl.Expr) -> pl.Expr:
    text = raw.str.strip_chars()
    if column.kind == "timestamp":
        text = text.str.replace("T", " ", literal=True).str.strip_suffix("Z").str.strip_suffix("+00:00")
    if column.kind == "integer":
        number = text.cast(pl.Float64, strict=False)
        return pl.when(number.round(0) == number).then(number).cast(pl.Int64, strict=False)
    return _parse(column, text)


def _arrow_timestamps(raw: pl.Series) -> pl.Series | None:
    """The column cast by Arrow, or None when some value is not a timestamp it reads."""
    try:
        return pl.from_arrow(pc.cast(raw.to_arrow(), pa.timestamp("us")))
    except pa.ArrowInvalid:
        return None


def _untyped(column: UsageColumn) -> pl.Expr:
    return pl.col(column.header).is_not_null() & pl.col(column.name).is_null()


def _reason(column: UsageColumn) -> pl.Expr:
    shown = pl.col(column.header).str.slice(0, _SHOWN)
    return pl.when(_untyped(column)).then(
        pl.format(f"{column.header}: not {_KIND_LABEL[column.kind]} (got {{}})", shown)
    )


def _reasons(columns: Iterable[UsageColumn]) -> pl.Expr:
    exprs = [_reason(c) for c in columns]
    if not exprs:
        return pl.lit(None, dtype=pl.String)
    return pl.concat_str(exprs, separator="; ", ignore_nulls=True).replace("", None)


def _out_of_bounds(column: UsageColumn) -> pl.Expr:
    value = pl.col(column.name)
    if column.kind == "number":
        return value.is_nan() | value.is_infinite() | (value.abs() > MAX_NUMBER)
    if column.kind == "date":
        return (value < EARLIEST_DAY) | (value > LATEST_DAY)
    return (value < _FIRST_MOMENT) | (value >= _PAST_LAST_MOMENT)


def _bound_reason(column: UsageColumn) -> str:
    if column.kind == "number":
        return f"{column.header}: not a finite number within ±{_MAX_LABEL} (got {{}})"
    return f"{column.header}: outside {EARLIEST_DAY} .. {LATEST_DAY} (got {{}})"


def _bounded(frame: pl.DataFrame) -> pl.DataFrame:
    """Null the values no job can have (see the module docstring), naming them in `_out_of_bounds`."""
    hit = frame.select(_out_of_bounds(c).fill_null(False).any().alias(c.name) for c in BOUNDED).row(0, named=True)
    columns = [c for c in BOUNDED if hit[c.name]]
    if not columns:
        return frame.with_columns(pl.lit(None, dtype=pl.String).alias("_out_of_bounds"))
    reasons = [
        pl.when(_out_of_bounds(c).fill_null(False)).then(pl.format(_bound_reason(c), pl.col(c.name).cast(pl.String)))
        for c in columns
    ]
    return frame.with_columns(
        pl.concat_str(reasons, separator="; ", ignore_nulls=True).replace("", None).alias("_out_of_bounds")
    ).with_columns(
        pl.when(_out_of_bounds(c).fill_null(False)).then(None).otherwise(pl.col(c.name)).alias(c.name) for c in columns
    )


def add_absent_columns(raw: pl.DataFrame) -> pl.DataFrame:
    """Every export column, as text; columns the file lacks are null."""
    absent = [pl.lit(None, dtype=pl.String).alias(c.header) for c in USAGE_COLUMNS if c.header not in raw.columns]
    return raw.with_columns(absent) if absent else raw


def unmark_newlines(raw: pl.DataFrame) -> pl.DataFrame:
    """Escaped line breaks were parsed as NEWLINE_MARK; make them line breaks again."""
    return raw.with_columns(pl.col(c.header).str.replace_all(NEWLINE_MARK, "\n", literal=True) for c in TEXT)


def type_batch(raw: pl.DataFrame) -> pl.DataFrame:
    """`raw` (every export column by header, as text or typed by Arrow) plus each column typed,
    by lower-case name.

    Adds `_unparsed_billing`, `_unparsed_other`, `_out_of_bounds` (reasons, or null) and
    `_truncated` (flags, or null); text columns longer than MAX_TEXT_BYTES are truncated in the
    typed column.
    """
    # Columns Arrow typed while parsing need nothing more; timestamps left as text get its cast.
    typed = {c.name for c in TYPED if raw.schema[c.header] != pl.String}
    stamps = {c.name: _arrow_timestamps(raw.get_column(c.header)) for c in TIMESTAMPS if c.name not in typed}
    frame = raw.with_columns(
        [pl.col(c.header).alias(c.name) for c in TYPED if c.name in typed]
        + [_parse(c, pl.col(c.header)).alias(c.name) for c in TYPED if c.name not in typed and stamps.get(c.name) is None]
        + [series.alias(name) for name, series in stamps.items() if series is not None]
    )
    checked = [c for c in TYPED if c.name not in typed and stamps.get(c.name) is None]
    untyped = frame.select(_untyped(c).any().alias(c.name) for c in checked).row(0, named=True) if checked else {}
    failing = [c for c in checked if untyped[c.name]]
    if failing:
        frame = frame.with_columns(
            pl.coalesce(pl.col(c.name), _parse_lenient(c, pl.col(c.header))).alias(c.name) for c in failing
        )
    lengths = frame.select(pl.col(c.header).str.len_bytes().max().alias(c.name) for c in TEXT).row(0, named=True)
    long_text = [c for c in TEXT if (lengths[c.name] or 0) > MAX_TEXT_BYTES]
    truncated = [
        pl.when(pl.col(c.header).str.len_bytes() > MAX_TEXT_BYTES).then(
            pl.format(f"{c.header}: truncated from {{}} bytes", pl.col(c.header).str.len_bytes())
        )
        for c in long_text
    ]
    return _bounded(frame).with_columns(
        [
            pl.when(pl.col(c.header).str.len_bytes() > MAX_TEXT_BYTES)
            .then(pl.col(c.header).str.slice(0, TRUNCATED_CHARS))
            .otherwise(pl.col(c.header))
            .alias(c.name)
            if c in long_text
            else pl.col(c.header).alias(c.name)
            for c in TEXT
        ]
        + [
            _reasons(c for c in failing if c.name in BILLING_COLUMNS).alias("_unparsed_billing"),
            _reasons(c for c in failing if c.name not in BILLING_COLUMNS).alias("_unparsed_other"),
            (pl.concat_str(truncated, separator="; ", ignore_nulls=True).replace("", None) if truncated
             else pl.lit(None, dtype=pl.String)).alias("_truncated"),
        ]
    )
