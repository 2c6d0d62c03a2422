"""`metrics --format`: json stays the default, csv parses with the csv module and carries the JSON's
numbers (one row per record, a `section` column, nested fields joined with dots), table prints
every section with rich, and names are shown as they are, never as markup."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from ciwatch_etl.cli import cli
from ciwatch_etl.metrics.formats import render
from ciwatch_etl.environment import Paths

DELIVERY_WINDOW = ("--period-days", "14", "--as-of", "2026-06-14")
JUNE_WINDOW = ("--as-of", "2026-06-30")


def output(*args: str) -> str:
    result = CliRunner().invoke(cli, ["metrics", *args])
    assert result.exit_code == 0, result.output
    return result.output


def cell(text: str) -> object:
    """A csv cell back as the JSON value it was written from."""
    if text == "":
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def flattened(value: dict, prefix: str = "") -> dict:
    found = {}
    for key, item in value.items():
        if isinstance(item, dict):
            found.update(flattened(item, f"{prefix}{key}."))
        elif not isinstance(item, list):
            found[f"{prefix}{key}"] = item
    return found


def assert_csv_carries_the_json(args: tuple[str, ...]) -> list[dict]:
    data = json.loads(output(*args))["data"]
    records = list(csv.DictReader(io.StringIO(output(*args, "--format", "csv"))))
    by_section: dict[str, list[dict]] = {}
    for record in records:
        by_section.setdefault(record["section"], []).append(record)
    (summary,) = by_section.pop("summary")
    assert {key: cell(summary[key]) for key in flattened(data)} == flattened(data)
    lists = {key: value for key, value in data.items() if isinstance(value, list)}
    assert set(by_section) == {key for key, items in lists.items() if items}
    for section, items in lists.items():
        rows = by_section.get(section, [])
        assert [{key: cell(row[key]) for key in flattened(item)} for row, item in zip(rows, items)] == [
            flattened(item) for item in items
        ]
        assert len(rows) == len(items)
    return records


@pytest.mark.parametrize("metric", ["dora", "performance"])
def test_csv_of_dora_and_performance_carries_the_json_numbers(delivery_home: Paths, metric: str):
    records = assert_csv_carries_the_json((metric, *DELIVERY_WINDOW))
    assert next(iter(records[0])) == "section"


def test_csv_of_dora_has_a_row_per_repo_with_its_keys(delivery_home: Paths):
    records = list(csv.DictReader(io.StringIO(output("dora", *DELIVERY_WINDOW, "--format", "csv"))))
    summary, *rest = records
    assert summary["section"] == "summary" and summary["change_failure_rate.rate"] == "0.3333333333"
    assert summary["deployment_frequency.deploys_per_week"] == "2.0" and summary["filters.repo"] == ""
    repos = {r["repo"]: r for r in rest if r["section"] == "by_repo"}
    assert set(repos) == {"shop", "api", "docs"}
    assert repos["shop"]["change_failure_rate.rate"] == "0.25" and repos["api"]["time_to_restore.tier"] == ""
    assert repos["shop"]["period_days"] == ""  # a summary column: empty on other sections' rows


def test_csv_of_costs_carries_the_json_numbers(june: Paths):
    records = assert_csv_carries_the_json(("costs", *JUNE_WINDOW))
    assert float(records[0]["total_credits"]) == 812.0


def test_json_is_the_default(delivery_home: Paths):
    default = output("dora", *DELIVERY_WINDOW)
    assert output("dora", *DELIVERY_WINDOW, "--format", "json") == default
    assert list(json.loads(default)) == ["data"]


@pytest.mark.parametrize(("metric", "shown"), [
    ("dora", ["summary", "by_provider", "by_repo", "pipeline_created", "2100.0", "deploy_days_per_week", "docs"]),
    ("performance", ["summary", "by_workflow", "slowest_jobs", "flaky_tests: none", "main-pipeline", "3540.0"]),
])
def test_table_prints_every_section(delivery_home: Paths, metric: str, shown: list[str]):
    printed = output(metric, *DELIVERY_WINDOW, "--format", "table")
    assert all(text in printed for text in shown), printed
    assert not printed.lstrip().startswith("{")


def test_table_shows_names_as_they_are_not_as_markup():
    printed = render({"period_days": 7, "by_repo": [{"repo": "[bold red]x[/]", "runs": 1}]}, "table")
    assert "[bold red]x[/]" in printed


@pytest.mark.parametrize("value", ["xml", "JSON", ""])
def test_an_unknown_format_is_an_invalid_argument(delivery_home: Paths, value: str):
    result = CliRunner().invoke(cli, ["metrics", "dora", "--format", value])
    assert result.exit_code == 2
    assert json.loads(result.output)["error"]["code"] == "invalid_argument"
