"""The waste report as an XLSX workbook: Summary, By project, Waste items, Queue wait,
Recommendations and Coverage.

The Waste items sheet holds exactly the rows the Summary's total waste sums, so its Waste (USD)
column adds up to the headline; queue wait, developer time rather than CI spend, has its own sheet.
A partial month, and a source without data, say so in the Summary's first lines and in Coverage.
"""

from __future__ import annotations

from pathlib import Path

import xlsxwriter

from ciwatch_etl.report import columns
from ciwatch_etl.report.coverage import Coverage
from ciwatch_etl.report.data import INSIGHTS_NOTE, WASTE_CATEGORIES, WasteReportData
from ciwatch_etl.report.labels import day_range
from ciwatch_etl.report.xlsx_cells import Cells, open_workbook


def write_workbook(data: WasteReportData, path: Path) -> None:
    book = open_workbook(path)
    try:
        cells = Cells(book)
        _summary(book, cells, data)
        for name, table, records in (
            ("By project", columns.BY_PROJECT, data.costs["by_project"]),
            ("Waste items", columns.WASTE_ITEMS, data.waste_items),
            ("Queue wait", columns.QUEUE_WAITS, data.queue_waits),
            ("Recommendations", columns.RECOMMENDATIONS, data.costs["recommendations"]),
            ("Coverage", columns.COVERAGE, columns.coverage_rows(data.coverage, data.month, data.last_day)),
        ):
            cells.table(book.add_worksheet(name), 0, columns.with_ids(table, records), records)
    finally:
        book.close()


def _coverage_line(data: WasteReportData, c: Coverage) -> str:
    status = c.status(data.month, data.last_day)
    if status == "not loaded":
        return "not loaded: the warehouse holds no data from it"
    if status == "no data this month":
        return f"no data this month (the warehouse holds {day_range(c.held_first, c.held_last)})"
    return f"{status}: {day_range(c.first_day, c.last_day)}"


def summary_lines(data: WasteReportData) -> list[tuple[str, object, str]]:
    """(label, value, kind) of each Summary row, status first."""
    costs, waste = data.costs, data.costs["waste"]
    return [
        ("Status", data.status, "text"),
        *((f"Partial because ({n})", reason, "text") for n, reason in enumerate(data.partial_reasons, start=1)),
        ("First day", data.month, "day"),
        ("Last day", data.last_day, "day"),
        *((f"Coverage: {c.source}", _coverage_line(data, c), "text") for c in data.coverage),
        ("Total spend (USD)", costs["total_cost_usd"], "usd"),
        ("Total credits", costs["total_credits"], "credits"),
        ("Of which estimated (USD)", costs["estimated_cost_usd"], "usd"),
        ("Total waste (USD)", waste["total_waste_usd"], "usd"),
        ("Total waste (credits)", waste["total_waste_credits"], "credits"),
        ("Waste share of spend", waste["total_waste_usd"] / costs["total_cost_usd"] if costs["total_cost_usd"]
         else None, "pct"),
        *((f"{label} (USD)", waste[f"{key}_usd"], "usd") for key, label in WASTE_CATEGORIES),
        *((f"{label} (credits)", waste[f"{key}_credits"], "credits") for key, label in WASTE_CATEGORIES),
        ("Queue wait, developer time, not CI spend (USD)", waste["queue_wait_usd"], "usd"),
        ("Queue wait (hours)", waste["queue_wait_hours"], "hours"),
        ("Credit price (USD per credit)", data.credit_price_usd, "rate"),
        ("Developer hour (USD)", data.developer_hour_usd, "usd"),
        *((f"{r['provider']} estimate (USD per job minute)", r["usd_per_minute"], "rate") for r in data.minute_rates),
        ("Settings file", data.config_file or "none (defaults)", "text"),
        ("Warehouse built (UTC)", data.built_at, "moment"),
        ("Note", INSIGHTS_NOTE, "text"),
    ]


def _summary(book: xlsxwriter.Workbook, cells: Cells, data: WasteReportData) -> None:
    sheet = book.add_worksheet("Summary")
    sheet.set_column(0, 0, 46)
    sheet.set_column(1, 1, 70, cells.text)
    sheet.write_string(0, 0, data.title, cells.title)
    sheet.freeze_panes(1, 0)
    for row, (label, value, kind) in enumerate(summary_lines(data), start=1):
        cells.write(sheet, row, 0, label)
        cells.write(sheet, row, 1, value, kind)
