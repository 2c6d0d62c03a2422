"""`metrics costs`: spend, waste by category and rightsizing recommendations for one window.

Everything is summed from mart_cost_breakdown, mart_credit_waste and
mart_rightsizing_recommendations, so the command, the finance report and an analyst's query of
the marts give the same numbers.
"""

from __future__ import annotations

import duckdb

from ciwatch_etl.metrics.request import MetricsRequest
from ciwatch_etl.metrics.warehouse import one, rows

# Spend waste categories of mart_credit_waste, and the key each has in the JSON ("<key>_credits").
WASTE_KEYS = {
    "flaky_test": "flaky_test",
    "failed": "failed",
    "canceled": "canceled",
    "rerun": "rerun",
    "superseded": "superseded",
    "overprovisioned": "overprovisioned_savable",
}


def costs(con: duckdb.DuckDBPyConnection, request: MetricsRequest) -> dict[str, object]:
    spend_where, params = request.window("usage_date")
    waste_where, _ = request.window("waste_date")
    totals = one(con, f"""
        select
            coalesce(sum(credits), 0) as total_credits,
            coalesce(sum(cost_usd), 0) as total_cost_usd,
            coalesce(sum(cost_usd) filter (where is_estimate), 0) as estimated_cost_usd
        from mart_cost_breakdown
        where {spend_where}
    """, params)
    by_provider = rows(con, f"""
        select
            provider,
            sum(credits) as credits,
            sum(cost_usd) as cost_usd,
            bool_or(is_estimate) as is_estimate
        from mart_cost_breakdown
        where {spend_where}
        group by provider
        order by cost_usd desc, provider
    """, params)
    by_project = rows(con, f"""
        with spend as (
            select provider, org, repo, sum(credits) as credits, sum(cost_usd) as cost_usd,
                bool_or(is_estimate) as is_estimate
            from mart_cost_breakdown
            where {spend_where}
            group by provider, org, repo
        ), waste as (
            select provider, coalesce(org, '(none)') as org, repo, sum(waste_credits) as waste_credits,
                sum(waste_usd) as waste_usd
            from mart_credit_waste
            where {waste_where} and category <> 'queue_wait'
            group by provider, coalesce(org, '(none)'), repo
        )
        select spend.*, waste.waste_credits, coalesce(waste.waste_usd, 0) as waste_usd
        from spend
        left join waste using (provider, org, repo)
        order by cost_usd desc, provider, org, repo
    """, params)
    return {
        **request.describe(),
        "credit_price_usd": one(con, "select credit_price_usd from raw.settings")["credit_price_usd"],
        "total_credits": totals["total_credits"],
        "total_cost_usd": totals["total_cost_usd"],
        "estimated_cost_usd": totals["estimated_cost_usd"],
        "by_provider": by_provider,
        "by_project": by_project,
        "waste": waste(con, request),
        "recommendations": recommendations(con, request),
    }


def waste(con: duckdb.DuckDBPyConnection, request: MetricsRequest) -> dict[str, object]:
    """Credits and USD per waste category; totals are spend waste only (queue wait is developer time)."""
    where, params = request.window("waste_date")
    sums = {r["category"]: r for r in rows(con, f"""
        select category, coalesce(sum(waste_credits), 0) as credits, coalesce(sum(waste_usd), 0) as usd,
            coalesce(sum(queue_seconds), 0) / 3600.0 as hours
        from mart_credit_waste
        where {where}
        group by category
    """, params)}

    def amount(category: str, unit: str) -> float:
        return float(sums.get(category, {}).get(unit, 0.0))

    result: dict[str, object] = {}
    for category, key in WASTE_KEYS.items():
        result[f"{key}_credits"] = amount(category, "credits")
        result[f"{key}_usd"] = amount(category, "usd")
    result["queue_wait_usd"] = amount("queue_wait", "usd")
    result["queue_wait_hours"] = amount("queue_wait", "hours")
    result["total_waste_credits"] = sum(amount(c, "credits") for c in WASTE_KEYS)
    result["total_waste_usd"] = sum(amount(c, "usd") for c in WASTE_KEYS)
    return result


def recommendations(con: duckdb.DuckDBPyConnection, request: MetricsRequest) -> list[dict[str, object]]:
    """Jobs whose resource class was over-provisioned in the window: what they would save.

    The evidence (utilisation, runs) is that of the latest month evaluated in the window; the savings
    are the window's overprovisioned waste, and per month they are scaled to 30 days of the window.
    """
    where, params = request.window("waste_date")
    month_where, month_params = request.filters()
    return rows(con, f"""
        with savings as (
            select org, repo, workflow_name, job_name, executor, resource_class, suggested_resource_class,
                sum(waste_credits) as savable_credits, sum(waste_usd) as savable_usd
            from mart_credit_waste
            where {where} and category = 'overprovisioned'
            group by org, repo, workflow_name, job_name, executor, resource_class, suggested_resource_class
        ), latest as (
            select *
            from mart_rightsizing_recommendations
            where usage_month between date_trunc('month', $first_day::date) and $last_day and {month_where}
            qualify row_number() over (
                partition by org, repo, workflow_name, job_name, executor, resource_class, suggested_resource_class
                order by usage_month desc
            ) = 1
        )
        select
            'circleci' as provider,
            s.org, s.repo, s.workflow_name, s.job_name, s.executor, s.resource_class,
            s.suggested_resource_class,
            l.usage_month as evaluated_month,
            l.measured_job_runs, l.avg_cpu_pct, l.max_cpu_pct, l.avg_ram_pct, l.max_ram_pct,
            s.savable_credits, s.savable_usd,
            s.savable_credits / $period_days * 30 as savable_credits_per_month,
            s.savable_usd / $period_days * 30 as savable_usd_per_month
        from savings as s
        left join latest as l
            on l.org is not distinct from s.org and l.repo = s.repo
            and l.workflow_name is not distinct from s.workflow_name and l.job_name = s.job_name
            and l.executor is not distinct from s.executor and l.resource_class = s.resource_class
            and l.suggested_resource_class = s.suggested_resource_class
        order by s.savable_credits desc, s.repo, s.workflow_name, s.job_name
    """, params | month_params | {"period_days": request.period_days})
