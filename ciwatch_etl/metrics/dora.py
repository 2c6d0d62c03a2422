"""`metrics dora`: the four keys over fct_deployments for one window, overall, per provider, per repo.

A deployment counts in the window by the day it finished. Deployments (DF) and lead time are
over successful production deployments; the change failure rate is failed / (successful +
failed) production deployments; time to restore is over the window's failed production
deployments restored by the window's end. Rates per week are days x 7 / period_days.
Deployments found on a deployment branch are successful runs by definition, so they count in
DF and lead time but not in the failure rate (they would make it 0 by construction): a repo
that deploys only that way has no change failure rate.
"""

from __future__ import annotations

import duckdb

from ciwatch_etl.metrics.request import MetricsRequest
from ciwatch_etl.metrics.tiers import (
    change_failure_rate_tier,
    deployment_frequency_tier,
    lead_time_tier,
    time_to_restore_tier,
)
from ciwatch_etl.metrics.warehouse import rows

GROUPINGS = {"overall": (), "by_provider": ("provider",), "by_repo": ("provider", "org", "repo")}
MEASURES = """
    count(*) filter (where outcome = 'success') as deployments,
    count(distinct deploy_date) filter (where outcome = 'success') as deploy_days,
    count(*) filter (where outcome = 'failed') as failed_deployments,
    count(*) filter (where outcome = 'success' and detected_by <> 'deployment_branch') as failable_deployments,
    quantile_cont(lead_time_seconds, 0.5) filter (where outcome = 'success') as lead_time_median_seconds,
    list(distinct lead_time_basis order by lead_time_basis) filter (where outcome = 'success') as bases,
    quantile_cont(restore_seconds, 0.5) filter (
        where outcome = 'failed' and restored_at::date <= $last_day
    ) as restore_median_seconds,
    count(*) filter (where outcome = 'failed' and restored_at::date <= $last_day) as restored_failures
"""


def dora(con: duckdb.DuckDBPyConnection, request: MetricsRequest) -> dict[str, object]:
    result: dict[str, object] = {**request.describe()}
    for name, keys in GROUPINGS.items():
        groups = [_keys(row, keys) | _four_keys(row, request.period_days) for row in _aggregate(con, request, keys)]
        if name == "overall":
            result.update(groups[0])
        else:
            result[name] = groups
    return result


def _aggregate(con: duckdb.DuckDBPyConnection, request: MetricsRequest, keys: tuple[str, ...]) -> list[dict]:
    """The window's production deployments summed per group; a group with runs but no deployment
    (a repo that never deploys) is listed too, with zeros and no tiers."""
    where, params = request.window("deploy_date")
    if not keys:
        return rows(con, f"select {MEASURES} from fct_deployments where is_production and {where}", params)
    runs_where, _ = request.window("run_date")
    columns = ", ".join(keys)
    group_columns = ", ".join(f"g.{key}" for key in keys)
    return rows(con, f"""
        with deployments as (
            select * from fct_deployments where is_production and {where}
        ), groups as (
            select distinct {columns} from fct_ci_runs where {runs_where}
            union
            select distinct {columns} from deployments
        )
        select {group_columns}, {MEASURES}
        from groups as g
        left join deployments as d on {" and ".join(f"d.{key} is not distinct from g.{key}" for key in keys)}
        group by {group_columns}
        order by {group_columns}
    """, params)


def _keys(row: dict, keys: tuple[str, ...]) -> dict[str, object]:
    return {key: row[key] for key in keys}


def _four_keys(row: dict, period_days: int) -> dict[str, object]:
    deployments, failed = row["deployments"], row["failed_deployments"]
    attempted = deployments + failed
    deploy_days_per_week = row["deploy_days"] * 7 / period_days if attempted else None
    counted = row["failable_deployments"] + failed
    rate = failed / counted if counted else None
    bases = row["bases"] or []
    return {
        "deployment_frequency": {
            "deployments": deployments,
            "deploy_days": row["deploy_days"],
            "deploys_per_week": deployments * 7 / period_days,
            "deploy_days_per_week": deploy_days_per_week,
            "tier": deployment_frequency_tier(deploy_days_per_week),
        },
        "lead_time": {
            "median_seconds": row["lead_time_median_seconds"],
            "basis": bases[0] if len(bases) == 1 else ("mixed: " + ", ".join(bases) if bases else None),
            "tier": lead_time_tier(row["lead_time_median_seconds"]),
        },
        "change_failure_rate": {
            "rate": rate,
            "failed_deployments": failed,
            "tier": change_failure_rate_tier(rate),
        },
        "time_to_restore": {
            "median_seconds": row["restore_median_seconds"],
            "restored_failures": row["restored_failures"],
            "unrestored_failures": failed - row["restored_failures"],
            "tier": time_to_restore_tier(row["restore_median_seconds"]),
        },
    }
