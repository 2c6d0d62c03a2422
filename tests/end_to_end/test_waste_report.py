"""`report waste`: totals equal the marts to the cent, the HTML is self-contained, and no text
becomes markup or a spreadsheet formula."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import duckdb
import openpyxl
import pytest
from click.testing import CliRunner
from cost_month import at, june_rows, usage_row
from lake_rows import write_rows

from ciwatch_etl.cli import cli
from ciwatch_etl.landing.tables import CIRCLECI_USAGE_JOBS
from ciwatch_etl.report.command import last_full_month
from ciwatch_etl.environment import Paths
from ciwatch_etl.warehouse.build import build_warehouse

HOSTILE = {
    "project_id": '=HYPERLINK("evil","click")',
    "workflow_name": "@SUM(A1:A9)",
    "job_name": "+cmd|' /C calc'!A0",
    "vcs_branch": "-2+3",
    "organization_id": "\tTAB",
    "resource_class": "\rCR",
}
MARKUP = "<script>alert(1)</script> $x$"


def run_report(out: Path, month: str = "2026-06") -> tuple[Path, Path]:
    result = CliRunner().invoke(cli, ["report", "waste", "--month", month, "--out", str(out)])
    assert result.exit_code == 0, result.output
    html, xlsx = (Path(line) for line in result.output.split())
    return html, xlsx


def summary(xlsx: Path) -> dict[str, object]:
    sheet = openpyxl.load_workbook(xlsx)["Summary"]
    return {row[0].value: row[1].value for row in sheet.iter_rows()}


def month_sums(warehouse: Path, sql: str) -> dict[str, float]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return dict(con.execute(sql, {"first": date(2026, 6, 1), "last": date(2026, 6, 30)}).fetchall())


def table(html: str, table_id: str) -> str:
    start = html.index(f'<table id="{table_id}">')
    return html[start:html.index("</table>", start)]


def sheet_records(xlsx: Path, name: str) -> list[dict[str, object]]:
    header, *body = openpyxl.load_workbook(xlsx)[name].iter_rows(values_only=True)
    return [dict(zip(header, row)) for row in body]


def test_report_totals_equal_the_marts_to_the_cent(june: Paths, tmp_path: Path):
    html, xlsx = run_report(tmp_path / "out")
    spend = month_sums(june.warehouse, "select 'usd', sum(cost_usd) from mart_cost_breakdown "
                       "where usage_date between $first and $last union all select 'credits', sum(credits) "
                       "from mart_cost_breakdown where usage_date between $first and $last")
    waste = month_sums(june.warehouse, "select category, sum(waste_usd) from mart_credit_waste "
                       "where waste_date between $first and $last group by category")
    cells = summary(xlsx)
    assert round(cells["Total spend (USD)"], 2) == round(spend["usd"], 2) == 8.12
    assert round(cells["Total credits"], 2) == round(spend["credits"], 2) == 812
    assert round(cells["Failed jobs (USD)"], 2) == round(waste["failed"], 2)
    assert cells["Credit price (USD per credit)"] == 0.01
    text = html.read_text(encoding="utf-8")
    assert 'id="total-cost-usd">$8.12<' in text and 'id="total-waste-usd">$3.77<' in text
    assert "not billing-grade" in text and "0.01 USD per credit" in text
    assert openpyxl.load_workbook(xlsx).sheetnames == [
        "Summary", "By project", "Waste items", "Queue wait", "Recommendations", "Coverage"]
    (recommendation,) = sheet_records(xlsx, "Recommendations")
    assert recommendation["Savable (credits)"] == 200


def test_the_waste_sheet_adds_up_to_the_headline_and_the_mart(june: Paths, tmp_path: Path):
    """Every spend waste row of the month, none of queue wait: the column sums to the headline."""
    html, xlsx = run_report(tmp_path / "out")
    (mart_usd,) = month_sums(june.warehouse, "select 'usd', sum(waste_usd) from mart_credit_waste "
                             "where waste_date between $first and $last and category <> 'queue_wait'").values()
    items = sheet_records(xlsx, "Waste items")
    assert len(items) == 16  # 6 categorised job runs + 10 runs' rightsizing savings
    sheet_usd = sum(item["Waste (USD)"] for item in items)
    headline = summary(xlsx)["Total waste (USD)"]
    assert round(sheet_usd, 2) == round(headline, 2) == round(mart_usd, 2) == 3.77
    assert round(sum(item["Waste (credits)"] for item in items), 2) == summary(xlsx)["Total waste (credits)"] == 377
    assert {item["Category"] for item in items} == {
        "Flaky tests", "Failed jobs", "Canceled jobs", "Re-runs of passed jobs", "Superseded runs",
        "Over-provisioned classes (savable)"}
    assert 'id="total-waste-usd">$3.77<' in html.read_text(encoding="utf-8")


def test_queue_wait_has_a_section_and_a_sheet_of_its_own(june: Paths, tmp_path: Path):
    html, xlsx = run_report(tmp_path / "out")
    waits = sheet_records(xlsx, "Queue wait")
    assert len(waits) == 3 and round(sum(w["Developer time (USD)"] for w in waits), 2) == 2.5
    assert sorted(round(w["Wait (minutes)"], 2) for w in waits) == [0.5, 0.5, 1.0]
    assert round(summary(xlsx)["Queue wait, developer time, not CI spend (USD)"], 2) == 2.5
    assert all("queue" not in str(item["Category"]).lower() for item in sheet_records(xlsx, "Waste items"))

    text = html.read_text(encoding="utf-8")
    for waste_table in ("waste-by-category", "by-project", "waste-items"):
        rows = table(text, waste_table)
        assert "queue" not in rows.lower() and "$2.50" not in rows, waste_table
    queue_section = text[text.index('<h2 id="queue-wait">'):text.index("<h2>About these numbers")]
    assert 'id="queue-wait-usd">$2.50<' in queue_section and "2 min over 3 wait(s)" in queue_section
    assert table(text, "queue-waits").count("<tr><td") == 3


def test_html_needs_nothing_from_the_network(june: Paths, tmp_path: Path):
    html, _ = run_report(tmp_path / "out")
    text = html.read_text(encoding="utf-8")
    assert text.count("<svg") == 3  # spend by project, waste by category, top savings
    assert not re.search(r"<(script|link|iframe|img|object|embed)\b", text, re.IGNORECASE)
    assert not re.search(r"@import|url\((?!#)", text)  # the charts' clip paths point inside the page
    references = re.findall(r'(?:href|src)="([^"]*)"', text)
    assert references and all(ref.startswith("#") for ref in references)


def test_hostile_names_stay_text_in_the_workbook_and_the_page(ciwatch_home: Path, tmp_path: Path):
    paths = Paths(ciwatch_home)
    day = at(date(2026, 6, 3), "09:00:00")
    hostile = usage_row("h1", pipeline="hp", workflow_id="hw", workflow="build", job="test", status="failed",
                        credits=7, started=day, stopped=day, workflow_queued=day, workflow_started=day,
                        workflow_stopped=day) | {"vcs_url": None, **HOSTILE}
    marked = usage_row("h2", pipeline="mp", workflow_id="mw", workflow=MARKUP, job=MARKUP, status="failed",
                       credits=9, started=day, stopped=day, workflow_queued=day, workflow_started=day,
                       workflow_stopped=day) | {"vcs_url": None, "project_id": MARKUP}
    write_rows(paths.lake, CIRCLECI_USAGE_JOBS, [*june_rows(), hostile, marked])
    build_warehouse(paths, 0.01)
    html, xlsx = run_report(tmp_path / "out")

    book = openpyxl.load_workbook(xlsx)
    formulas = [c.coordinate for s in book for row in s.iter_rows() for c in row if c.data_type == "f"]
    assert formulas == []
    found = {}
    for sheet in book:
        for row in sheet.iter_rows():
            for cell in row:
                # XLSX stores a carriage return as _x000D_, which spreadsheets read back as CR
                value = cell.value.replace("_x000D_", "\r") if isinstance(cell.value, str) else cell.value
                if value in HOSTILE.values():
                    assert cell.data_type == "s" and cell.quotePrefix, (sheet.title, cell.coordinate)
                    found[value] = sheet.title
    assert {HOSTILE["project_id"], HOSTILE["workflow_name"], HOSTILE["job_name"], HOSTILE["vcs_branch"],
            HOSTILE["organization_id"]} <= set(found)
    assert HOSTILE["resource_class"] in found  # written as text, carriage return and all

    text = html.read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; $x$" in text


def test_the_default_month_is_the_last_full_one():
    assert last_full_month(date(2026, 12, 1)) == date(2026, 11, 1)
    assert last_full_month(date(2027, 1, 31)) == date(2026, 12, 1)
    assert last_full_month(date(2026, 3, 15)) == date(2026, 2, 1)


@pytest.mark.parametrize("month", ["2026-13", "June", "2026-6-1"])
def test_a_bad_month_is_refused_naming_the_option(june: Paths, tmp_path: Path, month: str):
    result = CliRunner().invoke(cli, ["report", "waste", "--month", month, "--out", str(tmp_path)])
    assert result.exit_code == 2 and "--month" in result.output
    assert list(tmp_path.iterdir()) == []
