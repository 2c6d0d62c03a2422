"""The report's charts as inline SVG (matplotlib), so the HTML needs nothing from the network.

Text is drawn as paths (no font files) and never parsed as mathtext, so a project named `$x$`
prints as it is.
"""

from __future__ import annotations

import io
from collections import defaultdict
from datetime import date, timedelta

import matplotlib
from matplotlib.figure import Figure

from ciwatch_etl.report.data import WASTE_CATEGORIES, WasteReportData

matplotlib.rcParams.update({"svg.fonttype": "path", "text.parse_math": False, "font.size": 9})

TOP_PROJECTS = 7


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    text = buffer.getvalue()
    return text[text.index("<svg"):]  # drop the XML prolog and doctype: the SVG sits inside HTML


def spend_by_project(data: WasteReportData) -> str:
    """Daily spend (USD) over the month, stacked by project; the smaller projects as 'other'."""
    totals: dict[str, float] = defaultdict(float)
    for row in data.daily_spend:
        totals[row["project"]] += row["cost_usd"]
    top = sorted(totals, key=lambda p: (-totals[p], p))[:TOP_PROJECTS]
    days = [data.month + timedelta(days=i) for i in range((data.last_day - data.month).days + 1)]
    series: dict[str, dict[date, float]] = defaultdict(lambda: defaultdict(float))
    for row in data.daily_spend:
        series[row["project"] if row["project"] in top else "other"][row["usage_date"]] += row["cost_usd"]
    figure = Figure(figsize=(9, 3.6))
    axes = figure.subplots()
    bottom = [0.0] * len(days)
    for project in [*top, "other"] if "other" in series else top:
        values = [series[project].get(day, 0.0) for day in days]
        axes.bar(days, values, bottom=bottom, label=project, width=0.8)
        bottom = [b + v for b, v in zip(bottom, values)]
    axes.set_ylabel("USD per day")
    axes.set_title("Spend over the month by project")
    axes.set_xlim(data.month - timedelta(days=1), data.last_day + timedelta(days=1))
    if top:
        axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    else:
        axes.text(0.5, 0.5, "no spend this month", ha="center", va="center", transform=axes.transAxes)
    figure.autofmt_xdate()
    return _svg(figure)


def waste_by_category(data: WasteReportData) -> str:
    """Spend waste per category, in USD."""
    waste = data.costs["waste"]
    labels = [label for _, label in WASTE_CATEGORIES]
    values = [waste[f"{key}_usd"] for key, _ in WASTE_CATEGORIES]
    figure = Figure(figsize=(6.5, 2.8))
    axes = figure.subplots()
    axes.barh(labels[::-1], values[::-1], color="#c0504d")
    axes.set_xlabel("USD")
    axes.set_title("Waste by category")
    return _svg(figure)


def top_savings(data: WasteReportData, limit: int = 10) -> str:
    """The rightsizing recommendations that save the most, in USD over the month."""
    items = data.costs["recommendations"][:limit]
    figure = Figure(figsize=(6.5, 0.6 + 0.3 * max(len(items), 1)))
    axes = figure.subplots()
    if items:
        labels = [f"{r['repo']} / {r['job_name']}: {r['resource_class']} to {r['suggested_resource_class']}"
                  for r in items]
        axes.barh(labels[::-1], [r["savable_usd"] for r in items][::-1], color="#4f81bd")
        axes.set_xlabel("USD saved over the month")
    else:
        axes.text(0.5, 0.5, "no over-provisioned resource classes this month", ha="center", va="center")
        axes.set_axis_off()
    axes.set_title("Top savings: smaller resource classes")
    return _svg(figure)
