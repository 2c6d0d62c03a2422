"""`report waste` as a reader meets it: values on the bars, a page that prints with its table
headings on every page, a workbook with readable, frozen, filterable headings and currency and
percentage formats, a dash for a missing org, and room for human project names."""

from __future__ import annotations

import dataclasses
import re
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from ciwatch_etl.cli import cli
from ciwatch_etl.metrics.published_warehouse import open_warehouse
from ciwatch_etl.report.data import gather
from ciwatch_etl.report.html import render
from ciwatch_etl.report.labels import display, org_label
from ciwatch_etl.report.xlsx import write_workbook
from ciwatch_etl.environment import Paths

USD = '"$"#,##0.00'
TABLE_SHEETS = ("By project", "Waste items", "Queue wait", "Recommendations", "Coverage")


@pytest.fixture
def june_report(june: Paths, tmp_path: Path) -> tuple[str, openpyxl.Workbook]:
    result = CliRunner().invoke(cli, ["report", "waste", "--month", "2026-06", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    html, xlsx = (Path(line) for line in result.output.split())
    return html.read_text(encoding="utf-8"), openpyxl.load_workbook(xlsx)


def value_labels(html: str) -> dict[str, list[str]]:
    """Each chart's value labels, in drawing order, from the comments matplotlib writes with them."""
    labels: dict[str, list[str]] = {}
    for chart, text in re.findall(r'<g id="(\w+)-value-\d+">\s*<!-- (.*?) -->', html):
        labels.setdefault(chart, []).append(text)
    return labels


def test_every_bar_carries_its_value(june_report):
    html, _ = june_report
    labels = value_labels(html)
    assert labels["spend"] == ["$0.50", *["$0.40"] * 8, "$4.02", "$0.40"]  # day totals; no label on empty days
    # bottom to top: over-provisioned, superseded, re-runs, canceled, failed, flaky
    assert labels["waste"] == ["$2.00", "$0.25", "$0.20", "$0.12", "$0.70", "$0.50"]
    assert labels["savings"] == ["$2.00"]


def test_the_page_prints_with_headings_on_every_page_and_whole_rows(june_report):
    html, _ = june_report
    css = html[html.index("<style>"):html.index("</style>")]
    print_css = css[css.index("@media print"):]
    assert "thead { display: table-header-group; }" in print_css
    assert re.search(r"\btr\b[^{]*\{[^}]*break-inside: avoid", print_css)
    assert re.search(r"td\.num[^{]*\{[^}]*white-space: nowrap", css)
    page = re.search(r"@page \{([^}]*)\}", css)[1]
    assert "margin:" in page and "size" not in page  # the printer's A4 or Letter, not one forced
    tables = re.findall(r"<table\b.*?</table>", html, re.DOTALL)
    assert len(tables) == 6 and all("<thead><tr><th>" in t and "<tbody>" in t for t in tables)
    recommendation = re.search(r'<table id="recommendations">.*?<tbody>\s*<tr>(.*?)</tr>', html, re.DOTALL)[1]
    assert '<td class="num">20.0 / 35.0</td>' in recommendation  # CPU avg / max on one unbreakable line


def test_workbook_tables_have_frozen_filterable_readable_headings(june_report):
    _, book = june_report
    for name in TABLE_SHEETS:
        sheet = book[name]
        headings = [cell.value for cell in sheet[1]]
        assert sheet.freeze_panes == "A2", name
        assert sheet.auto_filter.ref == f"A1:{sheet.cell(1, len(headings)).column_letter}{sheet.max_row}", name
        assert all(h and "_" not in h and h[0].isupper() for h in headings), (name, headings)
        assert all(sheet.column_dimensions[c.column_letter].width >= 9 for c in sheet[1]), name
    assert [c.value for c in book["Waste items"][1]][:4] == ["Day", "Provider", "Org", "Project"]
    assert "Waste (USD)" in [c.value for c in book["Waste items"][1]]


def test_workbook_amounts_are_currency_and_shares_percentages(june_report):
    _, book = june_report

    def column(sheet: str, heading: str) -> list[openpyxl.cell.Cell]:
        rows = list(book[sheet].iter_rows())
        at = [c.value for c in rows[0]].index(heading)
        return [row[at] for row in rows[1:]]

    for sheet, heading in (("Waste items", "Waste (USD)"), ("By project", "Spend (USD)"),
                           ("Queue wait", "Developer time (USD)"), ("Recommendations", "Savable (USD)")):
        assert {c.number_format for c in column(sheet, heading)} == {USD}, (sheet, heading)
    (cpu,) = column("Recommendations", "Avg CPU")
    assert cpu.number_format == "0.0%" and cpu.value == pytest.approx(0.2)
    (share,) = column("By project", "Waste share")
    assert share.number_format == "0.0%" and share.value == pytest.approx(3.77 / 8.12)
    assert all(c.is_date and c.number_format == "yyyy-mm-dd" for c in column("Waste items", "Day"))
    summary = {row[0].value: row[1] for row in book["Summary"].iter_rows()}
    assert summary["Total waste (USD)"].number_format == USD
    assert summary["Waste share of spend"].number_format == "0.0%"
    assert summary["Credit price (USD per credit)"].number_format.startswith('"$"0.00')


def test_a_missing_org_is_a_dash_and_human_names_show_where_the_marts_give_them(june: Paths, tmp_path: Path):
    assert [org_label(v) for v in (None, "(none)", "", "acme")] == ["—", "—", "—", "acme"]
    with open_warehouse(june.warehouse) as con:
        data = gather(con, date(2026, 6, 1), date(2026, 7, 15))
    uuid = "265e3d91-9cde-5716-ba06-24efaf09990e"
    sourcecraft = {**data.costs["by_project"][0], "provider": "sourcecraft", "org": "(none)", "repo": uuid,
                   "repo_display_name": None}
    named = [{**item, "repo_display_name": "Payments API"} for item in data.waste_items]
    data = dataclasses.replace(data, costs={**data.costs, "by_project": [sourcecraft]}, waste_items=named)
    assert display(named[0], "repo") == "Payments API" and display(sourcecraft, "org") == "—"

    html = render(data)
    assert f'<td class="name">—</td><td class="name">{uuid}</td>' in html and "(none)" not in html
    assert '<td class="name">Payments API</td>' in html
    write_workbook(data, tmp_path / "named.xlsx")
    book = openpyxl.load_workbook(tmp_path / "named.xlsx")
    header, first, *_ = book["Waste items"].iter_rows(values_only=True)
    item = dict(zip(header, first))
    assert (item["Project"], item["Project id"]) == ("Payments API", "api")
    assert [row[1] for row in book["By project"].iter_rows(values_only=True)] == ["Org", "—"]
