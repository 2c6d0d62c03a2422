"""The report names repos as their provider displays them: SourceCraft's repository name from its
API, not the slug the runs carry."""

from __future__ import annotations

from datetime import date

from demo_run import DemoRun

from ciwatch_etl.metrics.published_warehouse import open_warehouse
from ciwatch_etl.report.data import gather
from ciwatch_etl.report.labels import display


def test_waste_items_projects_and_daily_spend_carry_the_providers_display_names(demo_run: DemoRun):
    assert demo_run.exit_code == 0, demo_run.output
    with open_warehouse(demo_run.home / "warehouse.duckdb") as con:
        names = dict(con.execute(
            "select repo, repo_name from stg_sourcecraft__repos"
        ).fetchall())
        (last_day,) = con.execute(
            "select max(waste_date) from mart_credit_waste where provider = 'sourcecraft'"
        ).fetchone()
        data = gather(con, last_day.replace(day=1), date(2026, 12, 31))
    renamed = {slug for slug, name in names.items() if name != slug}
    sourcecraft = [item for item in data.waste_items if item["provider"] == "sourcecraft"]
    assert [display(item, "repo") for item in sourcecraft] == [names[item["repo"]] for item in sourcecraft]
    assert renamed & {item["repo"] for item in sourcecraft}, "a waste item of a repo named other than its slug"
    by_project = [row for row in data.costs["by_project"] if row["provider"] == "sourcecraft"]
    assert [display(row, "repo") for row in by_project] == [names[row["repo"]] for row in by_project]
    projects = {row["project"] for row in data.daily_spend if row["project"].startswith("sourcecraft ")}
    assert projects and projects <= {f"sourcecraft {name}" for name in names.values()}
    assert not projects & {f"sourcecraft {slug}" for slug in renamed}
