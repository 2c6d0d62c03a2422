"""`metrics costs`: spend, waste by category and rightsizing recommendations for one window.

Everything is summed from mart_cost_breakdown, mart_credit_waste and
mart_rightsizing_recommendations by the queries `dbt_like_sql/metrics/costs_*.sql`, so the
command, the finance report and an analyst's query of the marts give the same numbers.
"""

from __future__ import annotations

import duckdb

from ciwatch_etl.metrics.request import MetricsRequest
from ciwatch_etl.metrics.sql_files import metric_sql, query

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
    params = request.params()
    (totals,) = query(con, metric_sql("costs_totals"), params)
    (price,) = query(con, metric_sql("costs_credit_price"), params)
    return {
        **request.describe(),
        "credit_price_usd": price["credit_price_usd"],
        "total_credits": totals["total_credits"],
        "total_cost_usd": totals["total_cost_usd"],
        "estimated_cost_usd": totals["estimated_cost_usd"],
        "by_provider": query(con, metric_sql("costs_by_provider"), params),
        "by_project": query(con, metric_sql("costs_by_project"), params),
        "waste": waste(con, request),
        "recommendations": query(con, metric_sql("costs_recommendations"), params),
    }


def waste(con: duckdb.DuckDBPyConnection, request: MetricsRequest) -> dict[str, object]:
    """Credits and USD per waste category; totals are spend waste only (queue wait is developer time)."""
    sums = {r["category"]: r for r in query(con, metric_sql("costs_waste"), request.params())}

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
