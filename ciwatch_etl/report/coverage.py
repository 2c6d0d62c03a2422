"""Which days of the month each source covers, and so whether the month's report is complete.

A source covers the days from the first to the last it holds, as far as they fall in the month:
a source loaded before and after the month covers all of it. A month is partial when it is not
over yet, or when a source that is loaded covers only some of its days, or none. A source with no
data in the whole warehouse is "not loaded" (a provider nobody uses): it is named on the page,
but does not make every month partial.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb

from ciwatch_etl.report.labels import day_range

# (source, what the report uses it for, its table, its day column)
SOURCES: tuple[tuple[str, str, str, str], ...] = (
    ("CircleCI usage export (credits)", "credits, spend and waste", "stg_circleci__usage_jobs", "job_run_date"),
    ("CircleCI Insights (flaky tests)", "telling flaky tests from failures", "stg_circleci__insights_flaky_tests",
     "snapshot_date"),
    ("CircleCI pipelines (runs)", "run history beside the usage export", "stg_circleci__pipelines",
     "created_at::date"),
    ("SourceCraft (runs)", "estimated spend and waste", "stg_sourcecraft__runs", "created_at::date"),
    ("gocdnext (runs)", "estimated spend and waste", "stg_gocdnext__runs", "created_at::date"),
)


@dataclass(frozen=True)
class Coverage:
    """One source's days: those it holds at all, and those of the month it covers."""

    source: str
    feeds: str
    held_first: date | None
    held_last: date | None
    first_day: date | None  # covered in the month
    last_day: date | None

    @property
    def loaded(self) -> bool:
        return self.held_first is not None

    @property
    def has_month(self) -> bool:
        return self.first_day is not None

    def status(self, month_first: date, month_last: date) -> str:
        if not self.loaded:
            return "not loaded"
        if not self.has_month:
            return "no data this month"
        if (self.first_day, self.last_day) == (month_first, month_last):
            return "complete"
        return "partial"


def month_coverage(con: duckdb.DuckDBPyConnection, first: date, last: date) -> list[Coverage]:
    result = []
    for source, feeds, table, day in SOURCES:
        held_first, held_last, in_month = con.execute(
            f"select min({day}), max({day}), count(*) filter (where {day} between $first and $last) from {table}",
            {"first": first, "last": last},
        ).fetchall()[0]
        covered = (max(held_first, first), min(held_last, last)) if in_month else (None, None)
        result.append(Coverage(source, feeds, held_first, held_last, *covered))
    return result


def partial_reasons(coverage: list[Coverage], first: date, last: date, today: date) -> list[str]:
    """Why the month's numbers are incomplete, one sentence each; empty when they are complete."""
    reasons = []
    if last >= today:
        reasons.append(f"The month is not over: today is {today.isoformat()} (UTC), so these are the days so far.")
    for c in coverage:
        status = c.status(first, last)
        if status == "partial":
            reasons.append(f"{c.source}: {day_range(c.first_day, c.last_day)} only; used for "
                           f"{c.feeds}.")
        elif status == "no data this month":
            reasons.append(f"{c.source}: no data this month (the warehouse holds "
                           f"{day_range(c.held_first, c.held_last)}); used for {c.feeds}.")
    return reasons


def not_loaded(coverage: list[Coverage]) -> list[str]:
    return [c.source for c in coverage if not c.loaded]
