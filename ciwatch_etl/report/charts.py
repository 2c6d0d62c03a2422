"""The report's charts as inline SVG (matplotlib), so the HTML needs nothing from the network.

Text is drawn as paths (no font files) and never parsed as mathtext, so a project named `$x$`
prints as it is. Every bar carries its value (a printed page has no tooltips); each value label
is a group with an id `<chart>-value-<n>`, and matplotlib writes its text in a comment beside it.
"""

from __future__ import annotations

import io
from collections import defaultdict
from datetime import date, timedelta

import matplotlib
from matplotlib import dates
from matplotlib.axes import Axes
from matplotlib.container import BarContainer
from matplotlib.figure import Figure

from ciwatch_etl.report.data import WASTE_CATEGORIES, WasteReportData
from ciwatch_etl.report.labels import display, usd

matplotlib.rcParams.update({"svg.fonttype": "path", "text.parse_math": False, "font.size": 9})

TOP_PROJECTS = 7


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    text = buffer.getvalue()
    return text[text.index("<svg"):]  # drop the XML prolog and doctype: the SVG sits inside HTML


def short_usd(value: float) -> str:
    """A bar's value in few characters: whole dollars from $100 up, else cents."""
    return f"${value:,.0f}" if abs(value) >= 100 else f"${value:,.2f}"


def _label_bars(axes: Axes, bars: BarContainer, labels: list[str], chart: str, **style: object) -> None:
    texts = axes.bar_label(bars, labels=labels, padding=2, **({"fontsize": 7} | style))
    for n, text in enumerate(texts):
        text.set_gid(f"{chart}-value-{n}")


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
    bars = None
    for project in [*top, "other"] if "other" in series else top:
        values = [series[project].get(day, 0.0) for day in days]
        bars = axes.bar(days, values, bottom=bottom, label=project, width=0.8)
        bottom = [b + v for b, v in zip(bottom, values)]
    if bars is not None:
        # the top layer's edge is the day's total; upright text would overlap its neighbours'
        _label_bars(axes, bars, [short_usd(total) if total else "" for total in bottom], "spend",
                    rotation=90, fontsize=6)
        axes.margins(y=0.18)
    axes.set_ylabel("USD per day")
    axes.set_title("Spend over the month by project")
    # just the month's days, so no tick of the month after sits at the edge
    axes.set_xlim(dates.date2num(data.month) - 0.7, dates.date2num(data.last_day) + 0.7)
    if top:
        axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    else:
        axes.text(0.5, 0.5, "no spend this month", ha="center", va="center", transform=axes.transAxes)
    axes.xaxis.set_major_locator(dates.DayLocator(bymonthday=(1, 8, 15, 22, 29)))
    axes.xaxis.set_major_formatter(dates.DateFormatter("%d %b"))
    return _svg(figure)


def waste_by_category(data: WasteReportData) -> str:
    """Spend waste per category, in USD."""
    waste = data.costs["waste"]
    labels = [label for _, label in WASTE_CATEGORIES]
    values = [waste[f"{key}_usd"] for key, _ in WASTE_CATEGORIES]
    figure = Figure(figsize=(6.5, 2.8))
    axes = figure.subplots()
    bars = axes.barh(labels[::-1], values[::-1], color="#c0504d")
    _label_bars(axes, bars, [usd(v) for v in values[::-1]], "waste")
    axes.margins(x=0.2)
    axes.set_xlabel("USD")
    axes.set_title("Waste by category")
    return _svg(figure)


def top_savings(data: WasteReportData, limit: int = 10) -> str:
    """The rightsizing recommendations that save the most, in USD over the month."""
    items = data.costs["recommendations"][:limit]
    figure = Figure(figsize=(6.5, 0.6 + 0.3 * max(len(items), 1)))
    axes = figure.subplots()
    if items:
        labels = [f"{display(r, 'repo')} / {r['job_name']}: {r['resource_class']} to {r['suggested_resource_class']}"
                  for r in items]
        values = [r["savable_usd"] for r in items][::-1]
        bars = axes.barh(labels[::-1], values, color="#4f81bd")
        _label_bars(axes, bars, [usd(v) for v in values], "savings")
        axes.margins(x=0.2)
        axes.set_xlabel("USD saved over the month")
    else:
        axes.text(0.5, 0.5, "no over-provisioned resource classes this month", ha="center", va="center")
        axes.set_axis_off()
    axes.set_title("Top savings: smaller resource classes")
    return _svg(figure)
