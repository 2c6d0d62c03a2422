"""The waste report as an XLSX workbook: Summary, By project, Waste items, Recommendations.

Numbers are number cells, days are date cells, and text is always a text cell: a project or job
named `=HYPERLINK(...)`, `+1`, `-1`, `@SUM(...)` or starting with a tab or carriage return is
written as a string with Excel's quote prefix, so no spreadsheet runs it as a formula, not even
after someone edits the cell.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from ciwatch_etl.report.data import INSIGHTS_NOTE, WASTE_CATEGORIES, WasteReportData

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

WASTE_ITEM_COLUMNS = (
    "waste_date", "provider", "org", "repo", "workflow_name", "job_name", "branch", "resource_class", "category",
    "item_id", "waste_credits", "waste_usd", "is_estimate", "queue_seconds", "suggested_resource_class",
    "superseded_by_run_id",
)
PROJECT_COLUMNS = ("provider", "org", "repo", "credits", "cost_usd", "is_estimate", "waste_credits", "waste_usd")
RECOMMENDATION_COLUMNS = (
    "org", "repo", "workflow_name", "job_name", "executor", "resource_class", "suggested_resource_class",
    "evaluated_month", "measured_job_runs", "avg_cpu_pct", "max_cpu_pct", "avg_ram_pct", "max_ram_pct",
    "savable_credits", "savable_usd", "savable_credits_per_month", "savable_usd_per_month",
)


class _Sheet:
    """Writes typed cells into one worksheet."""

    def __init__(self, book: xlsxwriter.Workbook, worksheet: Worksheet) -> None:
        self.worksheet = worksheet
        self.bold = book.add_format({"bold": True})
        self.number = book.add_format({"num_format": "#,##0.00"})
        self.small = book.add_format({"num_format": "0.00######"})  # prices and rates below 1 keep their digits
        self.day = book.add_format({"num_format": "yyyy-mm-dd"})
        self.moment = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        self.quoted = book.add_format({"quote_prefix": True})

    def cell(self, row: int, col: int, value: object) -> None:
        sheet = self.worksheet
        if value is None:
            sheet.write_blank(row, col, None)
        elif isinstance(value, bool):
            sheet.write_boolean(row, col, value)
        elif isinstance(value, int):
            sheet.write_number(row, col, value)
        elif isinstance(value, float):
            sheet.write_number(row, col, value, self.small if 0 < abs(value) < 1 else self.number)
        elif isinstance(value, datetime):
            sheet.write_datetime(row, col, value, self.moment)
        elif isinstance(value, date):
            sheet.write_datetime(row, col, datetime(value.year, value.month, value.day), self.day)
        else:
            text = str(value)
            sheet.write_string(row, col, text, self.quoted if text.startswith(FORMULA_PREFIXES) else None)

    def table(self, first_row: int, columns: tuple[str, ...], records: list[dict[str, object]]) -> None:
        for col, name in enumerate(columns):
            self.worksheet.write_string(first_row, col, name, self.bold)
        for offset, record in enumerate(records, start=1):
            for col, name in enumerate(columns):
                self.cell(first_row + offset, col, record.get(name))
        self.worksheet.set_column(0, len(columns) - 1, 16)


def write_workbook(data: WasteReportData, path: Path) -> None:
    book = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False,
                                           "strings_to_numbers": False})
    try:
        _summary(_Sheet(book, book.add_worksheet("Summary")), data)
        _Sheet(book, book.add_worksheet("By project")).table(0, PROJECT_COLUMNS, data.costs["by_project"])
        _Sheet(book, book.add_worksheet("Waste items")).table(0, WASTE_ITEM_COLUMNS, data.waste_items)
        _Sheet(book, book.add_worksheet("Recommendations")).table(0, RECOMMENDATION_COLUMNS,
                                                                  data.costs["recommendations"])
    finally:
        book.close()


def _summary(sheet: _Sheet, data: WasteReportData) -> None:
    costs, waste = data.costs, data.costs["waste"]
    lines: list[tuple[str, object]] = [
        ("report", data.title),
        ("first day", data.month),
        ("last day", data.last_day),
        ("warehouse built (UTC)", data.built_at),
        ("credit price (USD per credit)", data.credit_price_usd),
        ("developer hour (USD)", data.developer_hour_usd),
        *((f"{r['provider']} estimate (USD per job minute)", r["usd_per_minute"]) for r in data.minute_rates),
        ("settings file", data.config_file or "none (defaults)"),
        ("total credits", costs["total_credits"]),
        ("total cost (USD)", costs["total_cost_usd"]),
        ("of which estimated (USD)", costs["estimated_cost_usd"]),
        *((f"{label} (credits)", waste[f"{key}_credits"]) for key, label in WASTE_CATEGORIES),
        *((f"{label} (USD)", waste[f"{key}_usd"]) for key, label in WASTE_CATEGORIES),
        ("total waste (credits)", waste["total_waste_credits"]),
        ("total waste (USD)", waste["total_waste_usd"]),
        ("queue wait, developer time (USD)", waste["queue_wait_usd"]),
        ("queue wait (hours)", waste["queue_wait_hours"]),
        *((f"coverage: {c.source}", f"{c.first_day or 'no data'} to {c.last_day or 'no data'}") for c in data.coverage),
        ("note", INSIGHTS_NOTE),
    ]
    sheet.worksheet.set_column(0, 0, 44)
    sheet.worksheet.set_column(1, 1, 30)
    for row, (label, value) in enumerate(lines):
        sheet.cell(row, 0, label)
        sheet.cell(row, 1, value)
