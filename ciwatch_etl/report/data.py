"""Everything the waste report shows for one month, read from the warehouse."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime

import duckdb

from ciwatch_etl.metrics.costs import WASTE_KEYS, costs
from ciwatch_etl.metrics.request import MetricsRequest
from ciwatch_etl.metrics.warehouse import one, rows

TOP_WASTE_ITEMS = 25
# (key in the `waste` figures, label) of each spend waste category, in precedence order.
WASTE_CATEGORIES: tuple[tuple[str, str], ...] = tuple((WASTE_KEYS[category], label) for category, label in (
    ("flaky_test", "Flaky tests"),
    ("failed", "Failed jobs"),
    ("canceled", "Canceled jobs"),
    ("rerun", "Re-runs of passed jobs"),
    ("superseded", "Superseded runs"),
    ("overprovisioned", "Over-provisioned classes (savable)"),
))
INSIGHTS_NOTE = (
    "Credits come from CircleCI's usage export, the billing-grade record of each job. CircleCI "
    "Insights is not billing-grade (CircleCI: not a financial reporting tool): its credits are "
    "shown nowhere in this report. SourceCraft and gocdnext bill no credits; their USD is an "
    "estimate, job minutes at a configured USD per minute."
)


@dataclass(frozen=True)
class Coverage:
    source: str
    first_day: date | None
    last_day: date | None


@dataclass(frozen=True)
class WasteReportData:
    month: date  # first day
    last_day: date
    built_at: datetime
    config_file: str | None
    credit_price_usd: float
    developer_hour_usd: float
    minute_rates: list[dict[str, object]]
    costs: dict[str, object]  # as `metrics costs` computes it for the month
    daily_spend: list[dict[str, object]]  # usage_date, project, cost_usd
    waste_items: list[dict[str, object]]  # every mart_credit_waste row of the month
    coverage: list[Coverage]

    @property
    def title(self) -> str:
        return f"CI credit waste report, {self.month:%B %Y}"


def month_request(month: date) -> MetricsRequest:
    days = calendar.monthrange(month.year, month.month)[1]
    return MetricsRequest(period_days=days, as_of=month.replace(day=days))


def gather(con: duckdb.DuckDBPyConnection, month: date) -> WasteReportData:
    request = month_request(month)
    window = {"first_day": request.first_day, "last_day": request.as_of}
    settings = one(con, "select * from raw.settings")
    return WasteReportData(
        month=request.first_day,
        last_day=request.as_of,
        built_at=settings["built_at"],
        config_file=settings["config_file"],
        credit_price_usd=settings["credit_price_usd"],
        developer_hour_usd=settings["developer_hour_usd"],
        minute_rates=rows(con, "select provider, usd_per_minute from raw.provider_minute_rates order by provider"),
        costs=costs(con, request),
        daily_spend=rows(con, """
            select usage_date, provider || ' ' || repo as project, sum(cost_usd) as cost_usd
            from mart_cost_breakdown
            where usage_date between $first_day and $last_day
            group by usage_date, provider, repo
            order by usage_date, project
        """, window),
        waste_items=rows(con, """
            select waste_date, provider, org, repo, workflow_name, job_name, branch, resource_class, category,
                item_id, waste_credits, waste_usd, is_estimate, queue_seconds, suggested_resource_class,
                superseded_by_run_id
            from mart_credit_waste
            where waste_date between $first_day and $last_day
            order by waste_usd desc, provider, category, item_id
        """, window),
        coverage=_coverage(con),
    )


def _coverage(con: duckdb.DuckDBPyConnection) -> list[Coverage]:
    sources = {
        "CircleCI usage export (credits)": "select min(job_run_date), max(job_run_date) from stg_circleci__usage_jobs",
        "CircleCI Insights (flaky tests)": "select min(snapshot_date), max(snapshot_date) from stg_circleci__insights_flaky_tests",
        "CircleCI pipelines (runs)": "select min(created_at)::date, max(created_at)::date from stg_circleci__pipelines",
        "SourceCraft (runs)": "select min(created_at)::date, max(created_at)::date from stg_sourcecraft__runs",
        "gocdnext (runs)": "select min(created_at)::date, max(created_at)::date from stg_gocdnext__runs",
    }
    return [Coverage(name, *con.execute(sql).fetchone()) for name, sql in sources.items()]
