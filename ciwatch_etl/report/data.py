"""Everything the waste report shows for one month, read from the warehouse.

The headline figures come from `metrics costs` for the month, so the command, the report and an
analyst's query of the marts agree to the cent. The item lists are the month's rows of
mart_credit_waste split in two: spend waste (the rows the waste total sums) and queue wait,
which is developer time and never part of a waste list or total.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime

import duckdb

from ciwatch_etl.metrics.costs import WASTE_KEYS, costs
from ciwatch_etl.metrics.request import MetricsError, MetricsRequest
from ciwatch_etl.metrics.published_warehouse import one, rows
from ciwatch_etl.report.coverage import Coverage, month_coverage, not_loaded, partial_reasons
from ciwatch_etl.report.labels import CATEGORY_LABELS, QUEUE_WAIT, day_range

TOP_WASTE_ITEMS = 25
TOP_QUEUE_WAITS = 10
# (key in the `waste` figures, label) of each spend waste category, in precedence order.
WASTE_CATEGORIES: tuple[tuple[str, str], ...] = tuple(
    (WASTE_KEYS[category], label) for category, label in CATEGORY_LABELS.items()
)
INSIGHTS_NOTE = (
    "Credits come from CircleCI's usage export, the billing-grade record of each job. CircleCI "
    "Insights is not billing-grade (CircleCI: not a financial reporting tool): its credits are "
    "shown nowhere in this report. SourceCraft and gocdnext bill no credits; their USD is an "
    "estimate, job minutes at a configured USD per minute."
)

# Each repo's name as its provider displays it (SourceCraft's repository name, not its slug).
_DISPLAY_NAMES = """
        left join int_repos_configured as n
            on n.provider = {mart}.provider and n.repo = {mart}.repo
            and coalesce(n.org, '(none)') = coalesce({mart}.org, '(none)')
"""



def _with_display_names(con: duckdb.DuckDBPyConnection, figures: dict[str, object]) -> dict[str, object]:
    """`metrics costs` figures with each project's display name beside its repo."""
    names = {
        (r["provider"], r["org"], r["repo"]): r["repo_display_name"]
        for r in rows(con, "select provider, coalesce(org, '(none)') as org, repo, repo_display_name "
                           "from int_repos_configured")
    }
    by_project = [
        {**row, "repo_display_name": names.get((row["provider"], row["org"] or "(none)", row["repo"]))}
        for row in figures["by_project"]
    ]
    return {**figures, "by_project": by_project}


@dataclass(frozen=True)
class WasteReportData:
    month: date  # first day
    last_day: date
    today: date  # UTC, when the report was made: a month ending today or later is not over
    built_at: datetime
    config_file: str | None
    credit_price_usd: float
    developer_hour_usd: float
    minute_rates: list[dict[str, object]]
    costs: dict[str, object]  # as `metrics costs` computes it for the month
    daily_spend: list[dict[str, object]]  # usage_date, project, cost_usd
    waste_items: list[dict[str, object]]  # the month's spend waste rows of mart_credit_waste, largest first
    queue_waits: list[dict[str, object]]  # the month's queue_wait rows, longest first
    coverage: list[Coverage]

    @property
    def title(self) -> str:
        return f"CI credit waste report, {self.month:%B %Y}"

    @property
    def partial_reasons(self) -> list[str]:
        return partial_reasons(self.coverage, self.month, self.last_day, self.today)

    @property
    def is_partial(self) -> bool:
        return bool(self.partial_reasons)

    @property
    def not_loaded(self) -> list[str]:
        return not_loaded(self.coverage)

    @property
    def status(self) -> str:
        """The verdict the workbook opens with; `partial_reasons` say why a month is partial."""
        return "Partial month" if self.is_partial else "Complete month"


def month_request(month: date) -> MetricsRequest:
    days = calendar.monthrange(month.year, month.month)[1]
    return MetricsRequest(period_days=days, as_of=month.replace(day=days))


def gather(con: duckdb.DuckDBPyConnection, month: date, today: date) -> WasteReportData:
    """The month's figures; MetricsError `no_data` when no source holds a day of it."""
    request = month_request(month)
    window = {"first_day": request.first_day, "last_day": request.as_of}
    coverage = month_coverage(con, request.first_day, request.as_of)
    if not any(c.has_month for c in coverage):
        held = [c for c in coverage if c.loaded]
        holds = (f"it holds {day_range(min(c.held_first for c in held), max(c.held_last for c in held))}"
                 if held else "it is empty")
        raise MetricsError("no_data", f"no CI data for {month:%B %Y} in the warehouse ({holds}); "
                           "no report written")
    settings = one(con, "select * from raw.settings")
    items = rows(con, f"""
        select w.*, n.repo_display_name
        from mart_credit_waste as w
        {_DISPLAY_NAMES.format(mart="w")}
        where w.waste_date between $first_day and $last_day
        order by w.waste_usd desc, w.provider, w.category, w.item_id
    """, window)
    return WasteReportData(
        month=request.first_day,
        last_day=request.as_of,
        today=today,
        built_at=settings["built_at"],
        config_file=settings["config_file"],
        credit_price_usd=settings["credit_price_usd"],
        developer_hour_usd=settings["developer_hour_usd"],
        minute_rates=rows(con, "select provider, usd_per_minute from raw.provider_minute_rates order by provider"),
        costs=_with_display_names(con, costs(con, request)),
        daily_spend=rows(con, f"""
            select c.usage_date, c.provider || ' ' || coalesce(n.repo_display_name, c.repo) as project,
                sum(c.cost_usd) as cost_usd
            from mart_cost_breakdown as c
            {_DISPLAY_NAMES.format(mart="c")}
            where c.usage_date between $first_day and $last_day
            group by all
            order by c.usage_date, project
        """, window),
        waste_items=[item for item in items if item["category"] != QUEUE_WAIT],
        queue_waits=[item for item in items if item["category"] == QUEUE_WAIT],
        coverage=coverage,
    )
