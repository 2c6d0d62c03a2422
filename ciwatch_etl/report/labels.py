"""How the report names things and prints amounts: categories, orgs, projects, USD, day ranges.

One place for both files (page and workbook) and the charts, so a category or a missing org reads
the same everywhere.
"""

from __future__ import annotations

from datetime import date

MISSING = "—"
# The marts label a missing org '(none)' to keep their grain unique; a reader sees a dash.
_NO_ORG = (None, "", "(none)")

# Spend waste categories of mart_credit_waste, in precedence order, and how the report names them.
CATEGORY_LABELS: dict[str, str] = {
    "flaky_test": "Flaky tests",
    "failed": "Failed jobs",
    "canceled": "Canceled jobs",
    "rerun": "Re-runs of passed jobs",
    "superseded": "Superseded runs",
    "overprovisioned": "Over-provisioned classes (savable)",
}
QUEUE_WAIT = "queue_wait"  # developer time, not CI spend: never in a waste list or total

# A column the marts may gain to hold a human name beside an id (see `display`).
DISPLAY_NAME_COLUMNS = {"repo": "repo_display_name", "org": "org_display_name"}


def org_label(value: object) -> str:
    return MISSING if value in _NO_ORG else str(value)


def display(row: dict[str, object], column: str) -> str:
    """The row's human name for `column` where the marts give one, else the id as they hold it."""
    value = row.get(DISPLAY_NAME_COLUMNS.get(column, "")) or row.get(column)
    return org_label(value) if column == "org" else ("" if value is None else str(value))


def has_display_names(records: list[dict[str, object]]) -> bool:
    return any(record.get(column) for record in records for column in DISPLAY_NAME_COLUMNS.values())


def category_label(category: str) -> str:
    return CATEGORY_LABELS.get(category, category)


def usd(value: float | None) -> str:
    return "" if value is None else f"${value:,.2f}"


def credits(value: float | None) -> str:
    return "" if value is None else f"{value:,.2f}"


def pct(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def share(part: float, whole: float) -> str:
    return f"{part / whole:.1%}" if whole else "n/a"


def duration(hours: float) -> str:
    """'133.5 h', or minutes below an hour, where '0.0 h' would hide the wait."""
    return f"{hours:,.1f} h" if hours >= 1 else f"{hours * 60:,.0f} min"


def day_range(first: date | None, last: date | None) -> str:
    """'2026-06-01 to 2026-06-11', or the one day."""
    if first is None or last is None:
        return "no data"
    return first.isoformat() if first == last else f"{first.isoformat()} to {last.isoformat()}"
