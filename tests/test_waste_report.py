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
from ciwatch_etl.settings import Paths
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


def test_report_totals_equal_the_marts_to_the_cent(june: Paths, tmp_path: Path):
    html, xlsx = run_report(tmp_path / "out")
    with duckdb.connect(str(june.warehouse), read_only=True) as con:
        spend, credits = con.execute(
            "select sum(cost_usd), sum(credits) from mart_cost_breakdown where usage_date between '2026-06-01' and '2026-06-30'"
        ).fetchone()
        waste = dict(con.execute(
            "select category, sum(waste_usd) from mart_credit_waste where waste_date between '2026-06-01' and '2026-06-30' "
            "group by category"
        ).fetchall())
    spend_waste = sum(v for k, v in waste.items() if k != "queue_wait")
    cells = summary(xlsx)
    assert round(cells["total cost (USD)"], 2) == round(spend, 2) == 8.12
    assert round(cells["total credits"], 2) == round(credits, 2) == 812
    assert round(cells["total waste (USD)"], 2) == round(spend_waste, 2) == 3.77
    assert round(cells["Failed jobs (USD)"], 2) == round(waste["failed"], 2)
    assert round(cells["queue wait, developer time (USD)"], 2) == round(waste["queue_wait"], 2) == 2.5
    assert cells["credit price (USD per credit)"] == 0.01
    text = html.read_text(encoding="utf-8")
    assert 'id="total-cost-usd">$8.12<' in text and 'id="total-waste-usd">$3.77<' in text
    assert "not billing-grade" in text and "0.01 USD per credit" in text
    assert "CircleCI usage export (credits)</td><td>2026-06-01</td><td>2026-06-11" in text
    book = openpyxl.load_workbook(xlsx)
    assert book.sheetnames == ["Summary", "By project", "Waste items", "Recommendations"]
    items = list(book["Waste items"].iter_rows(values_only=True))
    assert len(items) - 1 == 19  # 6 categorised job runs + 10 savings + 3 queue waits: all of the month
    (header, recommendation) = list(book["Recommendations"].iter_rows(values_only=True))
    assert dict(zip(header, recommendation))["savable_credits"] == 200


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
