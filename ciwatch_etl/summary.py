"""Tables printed by the command line after a load or a run."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb
from rich.console import Console
from rich.table import Table

from ciwatch_etl.pipeline import RunSummary
from ciwatch_etl.warehouse.quoting import quote_identifier


def print_load(load: Mapping[str, Any], console: Console) -> None:
    """What one load did, from the metadata Dagster recorded of it, in counts that add up (read =
    landed + quarantined, and so on); see `assets.circleci_usage.load_metadata`."""
    table = Table(title="usage files landed")
    table.add_column("")
    table.add_column("rows", justify="right")
    table.add_column("")
    for label, key, note in (
        ("files", "files", ""),
        ("records read", "rows_read", "= landed + quarantined"),
        ("landed", "rows_landed", "= new + changed + unchanged + superseded"),
        ("  flagged", "rows_flagged", "landed, with quality flags"),
        ("quarantined", "rows_quarantined", "unusable billing fields, or not well-formed CSV"),
        ("new", "rows_landed_new", ""),
        ("changed", "rows_landed_changed", "replaced the lake's row of the job"),
        ("unchanged", "rows_unchanged", "identical to the lake's row, which stays"),
        ("superseded", "rows_superseded", "a later row of the job in this load won"),
        ("days written", "partitions_written", ""),
    ):
        table.add_row(label, f"{load[key]:,}", note)
    console.print(table)
    for rule, rows in load["flags_by_rule"].items():
        console.print(f"flagged: {rows:,} row(s): {rule}")
    notes = load["notes"]
    for note in [] if notes == "none" else notes.removeprefix("- ").split("\n- "):
        console.print(f"note: {note}")


def print_run(run: RunSummary, console: Console) -> None:
    """A row per asset materialized, then one line per source the run did not pull and why.

    Only what materialized is listed: a source skipped for missing settings has no row (its
    partitions stay missing), so a row always means the pull ran.
    """
    table = Table(title="materialized")
    table.add_column("asset")
    table.add_column("result")
    for step in run.steps:
        meta = step.metadata
        if "dagster/row_count" in meta:
            result = f"{meta['dagster/row_count']:,} rows"
        elif "rows_read" in meta:
            result = (f"{meta['rows_read']:,} rows read, {meta['rows_landed_new']:,} new, "
                      f"{meta['rows_landed_changed']:,} changed, {meta['rows_quarantined']:,} quarantined")
        else:
            result = "done"
        table.add_row(step.asset, result)
    console.print(table)
    for line in run.skipped:
        console.print(line, markup=False, highlight=False, soft_wrap=True)


def _print_raw_counts(con: duckdb.DuckDBPyConnection, console: Console) -> None:
    table = Table(title="what landed (raw tables with rows, and quarantine)")
    table.add_column("table_name", justify="left")
    table.add_column("row_count", justify="right")
    for (name,) in con.execute(
        "select table_name from information_schema.tables "
        "where table_schema = 'raw' and table_type = 'VIEW' order by table_name"
    ).fetchall():
        (rows,) = con.execute(f"select count(*) from raw.{quote_identifier(name)}").fetchone()
        if rows or name == "quarantine":
            table.add_row(f"raw.{name}", f"{rows:,}")
    console.print(table)


def _query_table(con: duckdb.DuckDBPyConnection, title: str, sql: str, console: Console) -> None:
    cursor = con.execute(sql)
    table = Table(title=title)
    for name, *_ in cursor.description:
        table.add_column(name, justify="left" if name.endswith("name") or name == "project" else "right")
    for row in cursor.fetchall():
        table.add_row(*(_cell(v) for v in row))
    console.print(table)


def _cell(value: object) -> str:
    """Floats with two decimals; a missing value (no credits known, say) as a dash, never `None`."""
    if value is None:
        return "-"
    return f"{value:,.2f}" if isinstance(value, float) else str(value)


def print_warehouse_summary(warehouse: Path, console: Console) -> None:
    """What landed, credits by project, waste by category and the top rightsizing recommendations."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        _print_raw_counts(con, console)
        _query_table(con, "credits by project", """
            select project_name, sum(job_runs) as job_runs, sum(total_credits) as credits,
                   sum(total_cost_usd) as cost_usd
            from fct_credit_usage_daily
            group by project_name
            order by credits desc
            limit 16
        """, console)
        _query_table(con, "waste by category, last 30 days of data (mart_credit_waste)", """
            select category, count(*) as items, sum(waste_credits) as credits, sum(waste_usd) as usd
            from mart_credit_waste
            where waste_date > (select max(waste_date) - 30 from mart_credit_waste)
            group by category
            order by usd desc
        """, console)
        _query_table(con, "top rightsizing recommendations, latest month (mart_rightsizing_recommendations)", """
            select repo as project, job_name, resource_class, suggested_resource_class as suggested,
                measured_job_runs as runs, max_cpu_pct, max_ram_pct, savable_credits_per_30_days as credits_per_30_days
            from mart_rightsizing_recommendations
            where usage_month = (select max(usage_month) from mart_rightsizing_recommendations)
            order by savable_credits desc
            limit 5
        """, console)
        _query_table(con, "Insights vs usage export credits (workflow-days seen whole on both sides)", """
            select count(*) as workflow_days,
                   count_if(is_over_threshold) as over_5pct_of_compute_and_dlc_credits,
                   sum(insights_credits) as insights_credits,
                   sum(usage_compute_dlc_credits) as usage_compute_dlc_credits,
                   sum(usage_total_credits) as usage_total_credits
            from mart_credit_reconciliation
            where is_fully_matched
        """, console)
        _query_table(con, "runs across providers (int_ci_runs)", """
            select provider, count(*) as runs, count_if(status = 'success') as succeeded,
                   count_if(status = 'failed') as failed, count_if(is_rerun) as reruns,
                   median(duration_seconds) as median_duration_seconds
            from int_ci_runs
            group by provider
            order by provider
        """, console)
