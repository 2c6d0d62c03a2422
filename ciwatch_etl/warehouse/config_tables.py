"""The build's own raw tables: the settings and `ciwatch.toml` the warehouse was built with.

Models read prices, rates and deployment rules from these tables, so every number in a mart can
be traced to the setting that made it, and no setting reaches SQL as text pasted into a query.
"""

from __future__ import annotations

from datetime import datetime

import duckdb

from ciwatch_etl.config_file import Config
from ciwatch_etl.warehouse.quoting import quote_identifier, quote_literal, quote_table
from ciwatch_etl.warehouse.raw import RAW_SCHEMA

CONFIG_TABLES: dict[str, str] = {
    "settings": (
        "One row: the settings this warehouse was built with (credit price in USD, developer hour in "
        "USD, the ciwatch.toml read, UTC build time)."
    ),
    "circleci_resource_classes": (
        "One row per CircleCI executor x resource class: credits per minute, size, and where and when "
        "the rate was read (the packaged table, or ciwatch.toml)."
    ),
    "provider_minute_rates": (
        "One row per provider without credits: the USD per job minute used to estimate its spend."
    ),
    "repo_rules": (
        "One row per repo with its own rules in ciwatch.toml, and one with repo null: the default "
        "deployment, production and non-production patterns, deployment branch and default branch, "
        "and where that default branch was set (ciwatch_toml_repo, ciwatch_toml_default or builtin)."
    ),
}

CONFIG_COLUMN_DOCS: dict[str, str] = {
    "credit_price_usd": "USD per CircleCI credit (CIWATCH_CREDIT_PRICE_USD)",
    "developer_hour_usd": "USD per developer hour, for queue wait ([costs] developer_hour_usd)",
    "config_file": "The ciwatch.toml read (null: none, packaged defaults)",
    "built_at": "UTC time the warehouse was built",
    "executor": "CircleCI executor (docker, machine, macos, ...)",
    "resource_class": "CircleCI resource class name",
    "family": "Resource class family (its executor's sizes ranked together)",
    "vcpus": "vCPUs of the resource class",
    "ram_gb": "RAM in GB of the resource class",
    "credits_per_minute": "Credits one minute of this resource class costs",
    "size_rank": "Rank of the class by size within its family (1 = smallest)",
    "rates_read_on": "Day the rate was read from CircleCI's pricing",
    "source": "Where the rate comes from: the packaged table or ciwatch.toml",
    "provider": "CI provider without credits (sourcecraft, gocdnext)",
    "usd_per_minute": "USD per job minute used to estimate the provider's spend",
    "is_estimate": "Always true: the provider bills no credits, so its USD is an estimate",
    "repo": "Repo the rules are for (null: the default rules)",
    "deployment_pattern": "Regular expression a job or workflow name matches when it deploys",
    "production_pattern": "Regular expression naming a production deployment",
    "non_production_pattern": "Regular expression naming a deployment that is not to production",
    "deployment_branch": "Branch whose deployments count (null: any)",
    "default_branch": "Default branch from ciwatch.toml, else main (builtin); the API's wins over one not set for the repo itself",
    "default_branch_source": "Where default_branch was set: ciwatch_toml_repo, ciwatch_toml_default or builtin",
}


def load_config_tables(
    con: duckdb.DuckDBPyConnection, config: Config, credit_price_usd: float, built_at: datetime
) -> None:
    """Create `raw.settings`, `raw.circleci_resource_classes`, `raw.provider_minute_rates`, `raw.repo_rules`."""
    _create(con, "settings", """
        credit_price_usd double, developer_hour_usd double, config_file varchar, built_at timestamp
    """, [(credit_price_usd, config.developer_hour_usd, str(config.source) if config.source else None,
           built_at)])
    _create(con, "circleci_resource_classes", """
        executor varchar, resource_class varchar, family varchar, vcpus double, ram_gb double,
        credits_per_minute double, size_rank integer, rates_read_on date, source varchar
    """, [(r.executor, r.resource_class, r.family, r.vcpus, r.ram_gb, r.credits_per_minute, r.size_rank,
           r.rates_read_on, r.source) for r in config.resource_classes])
    _create(con, "provider_minute_rates", "provider varchar, usd_per_minute double, is_estimate boolean",
            [(provider, rate, True) for provider, rate in sorted(config.minute_rates_usd.items())])
    _create(con, "repo_rules", """
        repo varchar, deployment_pattern varchar, production_pattern varchar, non_production_pattern varchar,
        deployment_branch varchar, default_branch varchar, default_branch_source varchar
    """, [(r.repo, r.deployment_pattern, r.production_pattern, r.non_production_pattern, r.deployment_branch,
           r.default_branch, r.default_branch_source) for r in config.repo_rules])


def _create(con: duckdb.DuckDBPyConnection, name: str, ddl: str, rows: list[tuple]) -> None:
    table = quote_table(RAW_SCHEMA, name)
    con.execute(f"create table {table} ({ddl})")
    con.execute(f"comment on table {table} is {quote_literal(CONFIG_TABLES[name])}")
    for (column,) in con.execute(f"select column_name from (describe {table})").fetchall():
        con.execute(f"comment on column {table}.{quote_identifier(column)} is {quote_literal(CONFIG_COLUMN_DOCS[column])}")
    if rows:
        marks = ", ".join("?" * len(rows[0]))
        con.executemany(f"insert into {table} values ({marks})", rows)
