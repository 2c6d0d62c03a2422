"""`metrics dora`: the four keys over fct_deployments for one window, overall, per provider, per repo.

The keys and their tiers are computed by the SQL of the DORA marts, mart_dora_keys then
mart_dora_tiers (their comments state the definitions), run with the window as the only period
and fct_deployments and fct_ci_runs narrowed to the window and the filters. So the command and
mart_dora_weekly / mart_dora_monthly share one definition; this module only shapes the rows.
"""

from __future__ import annotations

import duckdb

from ciwatch_etl.metrics.request import MetricsRequest
from ciwatch_etl.metrics.sql_files import metric_sql, model_sql, over, query

# mart_dora_keys's inputs as the window gives them (dbt_like_sql/metrics/<file>.sql): the window
# takes the place of the weeks, and there are no months.
WINDOW_INPUTS = {
    "dim_weeks": "dora_window_weeks",
    "dim_months": "dora_window_months",
    "fct_deployments": "dora_window_deployments",
    "fct_ci_runs": "dora_window_runs",
}


def dora(con: duckdb.DuckDBPyConnection, request: MetricsRequest) -> dict[str, object]:
    found = window_keys(con, request)
    (overall,) = (row for row in found if row["scope"] == "overall")
    return {
        **request.describe(),
        **_four_keys(overall),
        "by_provider": [{"provider": row["provider"], **_four_keys(row)}
                        for row in found if row["scope"] == "provider"],
        "by_repo": [{"provider": row["provider"], "org": row["org"], "repo": row["repo"], **_four_keys(row)}
                    for row in found if row["scope"] == "repo"],
    }


def window_keys(con: duckdb.DuckDBPyConnection, request: MetricsRequest) -> list[dict[str, object]]:
    """mart_dora_tiers's rows for the window: one overall, one per provider and one per repo with
    runs or production deployments in it (a repo that never deploys has zeros and no tiers)."""
    sql = over(model_sql("mart_dora_tiers"), {
        **{name: metric_sql(file) for name, file in WINDOW_INPUTS.items()},
        "mart_dora_keys": model_sql("mart_dora_keys"),
    })
    return query(con, f"{sql}\norder by provider, org, repo", request.params())


def _four_keys(row: dict) -> dict[str, object]:
    return {
        "deployment_frequency": {
            "deployments": row["deployments"],
            "deploy_days": row["deploy_days"],
            "deploys_per_week": row["deploys_per_week"],
            "deploy_days_per_week": row["deploy_days_per_week"],
            "tier": row["deployment_frequency_tier"],
        },
        "lead_time": {
            "median_seconds": row["lead_time_median_seconds"],
            "basis": row["lead_time_basis"],
            "tier": row["lead_time_tier"],
        },
        "change_failure_rate": {
            "rate": row["change_failure_rate"],
            "failed_deployments": row["failed_deployments"],
            "tier": row["change_failure_rate_tier"],
        },
        "time_to_restore": {
            "median_seconds": row["restore_median_seconds"],
            "restored_failures": row["restored_failures"],
            "unrestored_failures": row["unrestored_failures"],
            "tier": row["time_to_restore_tier"],
        },
    }
