"""The waste report as one self-contained HTML file: inline CSS and SVG, no scripts, fonts or links.

Every value is escaped by Jinja's autoescape; only the SVG charts, which matplotlib escapes
itself, are inserted as markup. The page prints on A4 or Letter: table headings repeat on each
page, rows never split, numbers never wrap.
"""

from __future__ import annotations

import importlib.resources

import jinja2

from ciwatch_etl.report import charts
from ciwatch_etl.report.data import INSIGHTS_NOTE, TOP_QUEUE_WAITS, TOP_WASTE_ITEMS, WASTE_CATEGORIES, WasteReportData
from ciwatch_etl.report.labels import category_label, credits, day_range, display, duration, pct, share, usd


def render(data: WasteReportData) -> str:
    source = importlib.resources.files("ciwatch_etl.report").joinpath("waste.html.j2").read_text(encoding="utf-8")
    template = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined).from_string(source)
    return template.render(
        data=data,
        note=INSIGHTS_NOTE,
        categories=WASTE_CATEGORIES,
        top_items=data.waste_items[:TOP_WASTE_ITEMS],
        top_waits=data.queue_waits[:TOP_QUEUE_WAITS],
        charts={
            "spend_by_project": charts.spend_by_project(data),
            "waste_by_category": charts.waste_by_category(data),
            "top_savings": charts.top_savings(data),
        },
        usd=usd,
        credits=credits,
        pct=pct,
        share=share,
        day_range=day_range,
        duration=duration,
        display=display,
        category_label=category_label,
    )
