"""The whole demo, end to end: simulator, Dagster run, warehouse and summary."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import duckdb
from click.testing import CliRunner
from rich.console import Console

import dagster as dg

from ciwatch_etl.cli import cli
from ciwatch_etl.demo import write_report
from ciwatch_etl.metrics.request import MetricsError
from demo_run import DemoRun


def test_demo_lands_every_simulated_job_and_builds_the_marts(demo_run: DemoRun):
    home = demo_run.home
    assert demo_run.exit_code == 0, demo_run.output
    assert "credits by project" in demo_run.output and "waste by category" in demo_run.output
    reports = sorted(p.name for p in (home / "reports").iterdir())
    assert len(reports) == 2 and reports[0].endswith(".html") and reports[1].endswith(".xlsx")
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        raw, distinct = con.execute("select count(*), count(distinct job_id) from raw.circleci_usage_jobs").fetchone()
        days = con.execute("select count(distinct usage_date) from fct_credit_usage_daily").fetchone()[0]
        providers = {p for (p,) in con.execute("select distinct provider from int_ci_runs").fetchall()}
        reconciled = con.execute("select count(*) from mart_credit_reconciliation").fetchone()[0]
        insights = con.execute("select count(*) from raw.circleci_insights_workflow_runs").fetchone()[0]
        totals = con.execute(
            "select (select sum(total_credits) from raw.circleci_usage_jobs),"
            " (select sum(total_credits) from fct_credit_usage_daily)"
        ).fetchone()
    assert raw == distinct > 1000
    assert days == 10
    assert providers == {"circleci", "sourcecraft", "gocdnext"}
    assert reconciled > 0 and insights > 0
    assert "runs across providers" in demo_run.output
    assert abs(totals[0] - totals[1]) < 1e-6 * totals[0]
    _the_metrics_answer_from_the_demo(home)


def test_the_summary_is_on_stdout_and_calls_nothing_skipped(demo_run: DemoRun):
    assert demo_run.exit_code == 0, demo_run.output
    assert "materialized" in demo_run.stdout and "credits by project" in demo_run.stdout
    assert "materialized" not in demo_run.stderr
    # Every source is configured in the demo: every raw table landed rows, none reads "skipped".
    assert "skipped" not in demo_run.stdout
    rows = [line for line in demo_run.stdout.splitlines() if "circleci_pipelines " in line]
    assert rows and "rows read" in rows[0]
    assert "None" not in demo_run.stdout  # a missing figure shows as a dash


def test_dagster_dev_sees_the_demos_runs(demo_run: DemoRun):
    """The instance `dagster dev` opens with the printed DAGSTER_HOME holds the run, its
    materializations (the usage partitions included) and its check results."""
    home = demo_run.home
    command = f"DAGSTER_HOME={home / 'dagster'} CIWATCH_HOME={home} dagster dev -m ciwatch_etl.definitions"
    assert command in demo_run.stdout
    with dg.DagsterInstance.from_config(str(home / "dagster")) as instance:
        [run] = instance.get_runs()
        partitions = instance.get_materialized_partitions(dg.AssetKey("circleci_usage_jobs"))
        marts = instance.fetch_materializations(dg.AssetKey("fct_credit_usage_daily"), limit=1).records
        fresh = instance.event_log_storage.get_latest_asset_check_execution_by_key(
            [dg.AssetCheckKey(dg.AssetKey("gocdnext_runs"), "is_fresh")]
        )
    assert run.status == dg.DagsterRunStatus.SUCCESS
    assert len(partitions) == 10
    assert marts and marts[0].run_id == run.run_id
    assert [e.status.value for e in fresh.values()] == ["SUCCEEDED"]


def test_a_month_without_data_is_one_line(tmp_path: Path, monkeypatch):
    def no_data(*args):
        raise MetricsError("no_data", "no CI data for May 2026 in the warehouse (it is empty); no report written")

    monkeypatch.setattr("ciwatch_etl.demo.write_waste_report", no_data)
    buffer = io.StringIO()
    write_report(tmp_path / "warehouse.duckdb", date(2026, 5, 1), tmp_path / "reports", Console(file=buffer, width=80))
    assert buffer.getvalue().splitlines() == [
        "finance report (May 2026): not written: no CI data for May 2026 in the warehouse (it is empty); "
        "no report written"
    ]


def _the_metrics_answer_from_the_demo(home: Path) -> None:
    env = {"CIWATCH_HOME": str(home)}
    costs = json.loads(CliRunner().invoke(cli, ["metrics", "costs", "--period-days", "30"], env=env).output)["data"]
    assert costs["total_credits"] > 0 and costs["total_cost_usd"] > costs["estimated_cost_usd"] > 0
    waste = costs["waste"]
    assert sum(waste[f"{c}_credits"] > 0 for c in ("failed", "canceled", "rerun", "superseded",
                                                   "overprovisioned_savable")) >= 4
    assert costs["recommendations"] and waste["queue_wait_usd"] > 0
    assert waste["total_waste_credits"] < costs["total_credits"]
    dora = json.loads(CliRunner().invoke(cli, ["metrics", "dora", "--period-days", "30"], env=env).output)["data"]
    providers = {p["provider"]: p for p in dora["by_provider"]}
    assert set(providers) == {"circleci", "sourcecraft", "gocdnext"}
    for name, keys in providers.items():
        assert keys["deployment_frequency"]["deployments"] > 0, name
        assert keys["deployment_frequency"]["tier"] and keys["lead_time"]["tier"], name
    performance = json.loads(
        CliRunner().invoke(cli, ["metrics", "performance", "--period-days", "30"], env=env).output)["data"]
    assert performance["runs"] > 0 and performance["slowest_jobs"] and performance["flaky_tests"]
