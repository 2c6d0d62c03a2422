"""Read CircleCI usage export files (`.csv` or `.csv.gz`) into typed Arrow batches, streaming.

DuckDB reads each file once, by header name (column order differs between real files), with
`\\N` (quoted or not) as null and every value read as text. The SELECT built here types each
column with TRY_CAST and records, per row, which values could not be typed: those rows go to
quarantine with the reason, the rest on to validation. Records that are not even well-formed CSV
(too many or too few fields) come back from DuckDB's reject table with their line number.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from ciwatch_etl.schemas.circleci_usage_columns import USAGE_COLUMNS, UsageColumn

BATCH_ROWS = 200_000
REQUIRED_HEADERS = ("JOB_ID", "JOB_RUN_DATE", "TOTAL_CREDITS")
_TRUE = ("true", "t", "y", "yes", "1")
_FALSE = ("false", "f", "n", "no", "0")
_KIND_LABEL = {
    "date": "a date",
    "timestamp": "a timestamp",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
}


class UsageFileError(ValueError):
    """A usage export file that cannot be read at all (names the file and what is wrong)."""


@dataclass(frozen=True)
class MalformedRecord:
    line: int
    reason: str
    text: str


@dataclass
class FileScan:
    """What reading one file found besides its rows."""

    ignored_headers: list[str] = field(default_factory=list)
    missing_headers: list[str] = field(default_factory=list)
    malformed: list[MalformedRecord] = field(default_factory=list)


def read_header(path: Path) -> list[str]:
    """The header row of a usage file, upper-cased and stripped."""
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8", newline="") as handle:
            first = handle.readline()
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise UsageFileError(f"{path}: cannot read the header row ({exc})") from None
    if not first.strip():
        raise UsageFileError(f"{path}: the file is empty (no header row)")
    return [name.strip().upper() for name in next(csv.reader(io.StringIO(first)))]


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _raw(column: UsageColumn, present: set[str]) -> str:
    if column.header not in present:
        return "null::varchar"
    return f"nullif(trim({_quote(column.header)}), '')"


def _typed(column: UsageColumn, raw: str) -> str:
    if column.kind == "text":
        return raw
    if column.kind == "boolean":
        return (
            f"case when lower({raw}) in {_TRUE} then true "
            f"when lower({raw}) in {_FALSE} then false end"
        )
    return f"try_cast({raw} as {column.duckdb_type})"


def typed_select_sql(headers: list[str]) -> str:
    """The SELECT that types one file's columns. File path is bound as parameter `$1`.

    Three steps, so each value is trimmed and cast once: read the text, type it, and only for
    rows where some value did not type, spell out which. Identifiers come from the fixed column
    list; header names from the file are only tested for membership, never pasted into SQL.
    """
    present = set(headers)
    typed_kinds = [c for c in USAGE_COLUMNS if c.kind != "text" and c.header in present]
    raw_cols = ", ".join(f"{_raw(c, present)} as r_{c.name}" for c in USAGE_COLUMNS)
    typed_cols = ", ".join(f"{_typed(c, f'r_{c.name}')} as {c.name}" for c in USAGE_COLUMNS)
    kept_raw = "".join(f", r_{c.name}" for c in typed_kinds)
    row_hash = f"hash({', '.join(f'r_{c.name}' for c in USAGE_COLUMNS)})::varchar"
    untyped = [f"(r_{c.name} is not null and {c.name} is null)" for c in typed_kinds]
    reasons = [
        f"case when r_{c.name} is not null and {c.name} is null "
        f"then '{c.header}: not {_KIND_LABEL[c.kind]}: ' || left(r_{c.name}, 60) end"
        for c in typed_kinds
    ]
    parse_errors = (
        f"case when {' or '.join(untyped)} then concat_ws('; ', {', '.join(reasons)}) end"
        if typed_kinds
        else "null::varchar"
    )
    names = ", ".join(c.name for c in USAGE_COLUMNS)
    return (
        f"with raw as (select {raw_cols} from read_csv($1, header = true, all_varchar = true,"
        " nullstr = '\\N', quote = '\"', escape = '\"', store_rejects = true, strict_mode = true,"
        " auto_detect = true)),"
        f" typed as (select {typed_cols}{kept_raw}, {row_hash} as _row_hash from raw)"
        f" select {names}, _row_hash, {parse_errors} as _parse_errors from typed"
    )


def scan_usage_file(
    con: duckdb.DuckDBPyConnection, path: Path, scan: FileScan, batch_rows: int = BATCH_ROWS
) -> Iterator[pa.RecordBatch]:
    """Typed record batches of one usage file, in file order; fills `scan` as it goes.

    Each batch has the 48 typed usage columns, `_row_hash` and `_parse_errors`.
    """
    headers = read_header(path)
    known = {c.header for c in USAGE_COLUMNS}
    missing_required = [h for h in REQUIRED_HEADERS if h not in headers]
    if missing_required:
        raise UsageFileError(
            f"{path}: not a CircleCI usage export: header lacks {', '.join(missing_required)} "
            f"(found: {', '.join(headers[:8])}{'...' if len(headers) > 8 else ''})"
        )
    scan.ignored_headers = [h for h in headers if h not in known]
    scan.missing_headers = [c.header for c in USAGE_COLUMNS if c.header not in headers]
    try:
        reader = con.sql(typed_select_sql(headers), params=[str(path)]).to_arrow_reader(batch_rows)
        yield from reader
    except (duckdb.Error, OSError, EOFError) as exc:
        raise UsageFileError(f"{path}: cannot be read as CSV: {str(exc).splitlines()[0]}") from None
    scan.malformed = [
        MalformedRecord(line=line, reason=f"malformed CSV record: {message}", text=text or "")
        for line, message, text in con.execute(
            # DuckDB reports a short record once per missing column: one entry per line is enough.
            "select line, arg_min(error_message, column_idx), min(csv_line) from reject_errors group by line order by line"
        ).fetchall()
    ]
    con.execute("delete from reject_errors")
    con.execute("delete from reject_scans")
