"""Helpers for the usage landing tests: land files into a lake, and read a file the direct way.

`direct_credits` is the independent computation the lake is checked against: it reads a fixture
line by line with Python's csv module (backslash escapes; a line whose quotes do not parse is
read with quoting off) and sums TOTAL_CREDITS per project and day, leaving out the rows a test
expects in quarantine.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import duckdb

from ciwatch_etl.landing.usage_load import UsageFile, UsageLoadReport, land_usage_files

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "usage"
csv.field_size_limit(1 << 30)  # the 10 MB field


def land(lake: Path, *paths: Path) -> UsageLoadReport:
    files = [UsageFile(p, p.name, p.name.replace(".", "-")) for p in paths]
    return land_usage_files(lake, files, extracted_at=datetime(2026, 1, 1))


def _fields(line: str, width: int) -> list[str]:
    try:
        fields = next(csv.reader([line], escapechar="\\", strict=True))
        if len(fields) == width:
            return fields
    except csv.Error:
        pass
    return next(csv.reader([line], escapechar="\\", quoting=csv.QUOTE_NONE))


def _records(text: str) -> list[str]:
    """Lines, with a line ending in an escaping backslash joined to the next."""
    records, pending = [], ""
    for line in text.removeprefix("\ufeff").replace("\r\n", "\n").split("\n"):
        pending += line
        run = len(pending) - len(pending.rstrip("\\"))
        if run % 2:
            pending += "\n"
            continue
        records.append(pending)
        pending = ""
    return [r for r in records if r]


def direct_rows(path: Path) -> list[dict[str, str]]:
    """The file's well-formed rows by header name, read directly."""
    text = path.read_bytes().decode("utf-8", "replace")
    header, *lines = _records(text)
    names = next(csv.reader([header]))
    rows = [_fields(line, len(names)) for line in lines]
    return [dict(zip(names, fields, strict=True)) for fields in rows if len(fields) == len(names)]


def direct_credits(path: Path, quarantined: set[str] = frozenset()) -> dict[tuple[str, str], float]:
    """TOTAL_CREDITS per (PROJECT_NAME, JOB_RUN_DATE) of the rows not expected in quarantine."""
    totals: dict[tuple[str, str], float] = defaultdict(float)
    for row in direct_rows(path):
        if row["JOB_ID"] not in quarantined:
            totals[(row["PROJECT_NAME"], row["JOB_RUN_DATE"])] += float(row["TOTAL_CREDITS"])
    return dict(totals)


def lake_rows(lake: Path, columns: str = "*", where: str = "true") -> list[tuple]:
    files = sorted(str(p) for p in (lake / "circleci" / "usage_jobs").glob("*/data.parquet"))
    if not files:
        return []
    return duckdb.execute(
        f"select {columns} from read_parquet($1, union_by_name = true) where {where} order by all", [files]
    ).fetchall()


def lake_credits(lake: Path, days: tuple[str, ...] | None = None) -> dict[tuple[str, str], float]:
    """Credits per (project, day) in the lake, optionally only for some days."""
    rows = lake_rows(lake, "project_name, job_run_date::varchar, total_credits")
    totals: dict[tuple[str, str], float] = defaultdict(float)
    for project, day, credits in rows:
        if days is None or day in days:
            totals[(project, day)] += credits
    return dict(totals)


def lake_files(lake: Path) -> dict[Path, bytes]:
    """Every file of the lake with its bytes."""
    return {p: p.read_bytes() for p in sorted(lake.rglob("*")) if p.is_file()}


def quarantine_rows(lake: Path) -> list[tuple]:
    files = sorted(str(p) for p in (lake / "_quarantine").glob("*/*.parquet"))
    if not files:
        return []
    return duckdb.execute(
        "select source_file, source_row, reason, record from read_parquet($1) order by source_file, source_row",
        [files],
    ).fetchall()
