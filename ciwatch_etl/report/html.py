"""The waste report as one self-contained HTML file: inline CSS and SVG, no scripts, fonts or links.

Every value is escaped by Jinja's autoescape; only the SVG charts, which matplotlib escapes
itself, are inserted as markup.
"""

from __future__ import annotations

import importlib.resources

import jinja2

from ciwatch_etl.report import charts
from ciwatch_etl.report.data import INSIGHTS_NOTE, TOP_WASTE_ITEMS, WASTE_CATEGORIES, WasteReportData


def usd(value: float | None) -> str:
    return "" if value is None else f"${value:,.2f}"


def credits(value: float | None) -> str:
    return "" if value is None else f"{value:,.2f}"


def pct(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def share(part: float, whole: float) -> str:
    return f"{part / whole:.1%}" if whole else "n/a"


def render(data: WasteReportData) -> str:
    source = importlib.resources.files("ciwatch_etl.report").joinpath("waste.html.j2").read_text(encoding="utf-8")
    template = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined).from_string(source)
    return template.render(
        data=data,
        note=INSIGHTS_NOTE,
        categories=WASTE_CATEGORIES,
        top_items=data.waste_items[:TOP_WASTE_ITEMS],
        charts={
            "spend_by_project": charts.spend_by_project(data),
            "waste_by_category": charts.waste_by_category(data),
            "top_savings": charts.top_savings(data),
        },
        usd=usd,
        credits=credits,
        pct=pct,
        share=share,
    )
