"""DORA 2023 tiers of single values, by the thresholds the DORA marts use.

The thresholds are written once, in dbt_like_sql/marts/mart_dora_tiers.sql (its comment lists
them). Each function here runs that SQL over one row holding its value, in an in-memory DuckDB,
so it cannot disagree with the marts or with `metrics dora`. None (no data) gives None.
"""

from __future__ import annotations

import duckdb

from ciwatch_etl.metrics.sql_files import metric_sql, model_sql, over, query

# The four keys mart_dora_tiers reads (dbt_like_sql/metrics/dora_keys_of_values.sql binds each).
KEYS = ("deploy_days_per_week", "lead_time_median_seconds", "change_failure_rate", "restore_median_seconds")


def _tier(key: str, value: float | None, tier_column: str) -> str | None:
    with duckdb.connect() as con:
        sql = over(model_sql("mart_dora_tiers"), {"mart_dora_keys": metric_sql("dora_keys_of_values")})
        (tiered,) = query(con, sql, dict.fromkeys(KEYS) | {key: value})
    return tiered[tier_column]


def deployment_frequency_tier(deploy_days_per_week: float | None) -> str | None:
    return _tier("deploy_days_per_week", deploy_days_per_week, "deployment_frequency_tier")


def lead_time_tier(median_seconds: float | None) -> str | None:
    return _tier("lead_time_median_seconds", median_seconds, "lead_time_tier")


def change_failure_rate_tier(rate: float | None) -> str | None:
    return _tier("change_failure_rate", rate, "change_failure_rate_tier")


def time_to_restore_tier(median_seconds: float | None) -> str | None:
    return _tier("restore_median_seconds", median_seconds, "time_to_restore_tier")
