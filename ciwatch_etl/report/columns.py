"""The workbook's tables: for each column, the heading a reader sees, its number format and width.

A column's `kind` picks the cell format (`xlsx_cells.FORMATS`); `get` reads the value from a row
of the marts when it is not simply `row[key]` (a missing org as a dash, a category by its label,
a percentage as a fraction for Excel's % format).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from ciwatch_etl.report.coverage import Coverage
from ciwatch_etl.report.labels import category_label, display, has_display_names


@dataclass(frozen=True)
class Column:
    key: str
    heading: str
    kind: str = "text"  # text, day, month, usd, credits, pct, count, minutes, flag
    width: float = 14
    get: Callable[[dict[str, object]], object] | None = None

    def value(self, row: dict[str, object]) -> object:
        return self.get(row) if self.get else row.get(self.key)


def _percent(key: str) -> Callable[[dict[str, object]], object]:
    return lambda row: None if row.get(key) is None else row[key] / 100


ORG = Column("org", "Org", width=16, get=lambda row: display(row, "org"))
PROJECT = Column("repo", "Project", width=26, get=lambda row: display(row, "repo"))
PROJECT_ID = Column("repo", "Project id", width=26)
DAY = Column("waste_date", "Day", "day", 11)
PROVIDER = Column("provider", "Provider", width=11)
WORKFLOW = Column("workflow_name", "Workflow", width=20)
BRANCH = Column("branch", "Branch", width=18)

WASTE_ITEMS = (
    DAY,
    PROVIDER,
    ORG,
    PROJECT,
    WORKFLOW,
    Column("job_name", "Job", width=20),
    BRANCH,
    Column("resource_class", "Resource class", width=14),
    Column("category", "Category", width=30, get=lambda row: category_label(str(row["category"]))),
    Column("waste_credits", "Waste (credits)", "credits", 14),
    Column("waste_usd", "Waste (USD)", "usd", 13),
    Column("is_estimate", "Estimate", "flag", 9),
    Column("suggested_resource_class", "Suggested class", width=15),
    Column("superseded_by_run_id", "Superseded by run", width=22),
    Column("item_id", "Job run id", width=24),
)
QUEUE_WAITS = (
    DAY,
    PROVIDER,
    ORG,
    PROJECT,
    WORKFLOW,
    BRANCH,
    Column("queue_seconds", "Wait (minutes)", "minutes", 14,
           get=lambda row: None if row.get("queue_seconds") is None else row["queue_seconds"] / 60),
    Column("waste_usd", "Developer time (USD)", "usd", 20),
    Column("item_id", "Run id", width=24),
)
BY_PROJECT = (
    PROVIDER,
    ORG,
    PROJECT,
    Column("credits", "Credits", "credits", 14),
    Column("cost_usd", "Spend (USD)", "usd", 13),
    Column("is_estimate", "Estimate", "flag", 9),
    Column("waste_credits", "Waste (credits)", "credits", 14),
    Column("waste_usd", "Waste (USD)", "usd", 13),
    Column("waste_share", "Waste share", "pct", 12,
           get=lambda row: row["waste_usd"] / row["cost_usd"] if row.get("cost_usd") else None),
)
RECOMMENDATIONS = (
    ORG,
    PROJECT,
    WORKFLOW,
    Column("job_name", "Job", width=20),
    Column("executor", "Executor", width=10),
    Column("resource_class", "Resource class", width=14),
    Column("suggested_resource_class", "Suggested class", width=15),
    Column("evaluated_month", "Evaluated month", "month", 10),
    Column("measured_job_runs", "Runs measured", "count", 10),
    Column("avg_cpu_pct", "Avg CPU", "pct", 9, get=_percent("avg_cpu_pct")),
    Column("max_cpu_pct", "Max CPU", "pct", 9, get=_percent("max_cpu_pct")),
    Column("avg_ram_pct", "Avg RAM", "pct", 9, get=_percent("avg_ram_pct")),
    Column("max_ram_pct", "Max RAM", "pct", 9, get=_percent("max_ram_pct")),
    Column("savable_credits", "Savable (credits)", "credits", 15),
    Column("savable_usd", "Savable (USD)", "usd", 13),
    Column("savable_credits_per_month", "Savable per 30 days (credits)", "credits", 16),
    Column("savable_usd_per_month", "Savable per 30 days (USD)", "usd", 15),
)
COVERAGE = (
    Column("source", "Source", width=32),
    Column("feeds", "Used for", width=36),
    Column("status", "This month", width=18),
    Column("first_day", "First day covered", "day", 12),
    Column("last_day", "Last day covered", "day", 12),
    Column("held_first", "First day held", "day", 12),
    Column("held_last", "Last day held", "day", 12),
)


def with_ids(columns: tuple[Column, ...], records: list[dict[str, object]]) -> tuple[Column, ...]:
    """Where the rows carry human project names, the id beside the name, so both stay filterable."""
    if not has_display_names(records) or PROJECT not in columns:
        return columns
    at = columns.index(PROJECT) + 1
    return (*columns[:at], PROJECT_ID, *columns[at:])


def coverage_rows(coverage: list[Coverage], first: date, last: date) -> list[dict[str, object]]:
    return [{**vars(c), "status": c.status(first, last)} for c in coverage]

