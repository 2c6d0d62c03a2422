"""`metrics` input handling: the error envelope for every bad input, and hostile filter values."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from cost_month import at, june_rows, usage_row
from lake_rows import write_rows

from ciwatch_etl.cli import cli
from ciwatch_etl.landing.tables import CIRCLECI_USAGE_JOBS
from ciwatch_etl.settings import Paths
from ciwatch_etl.warehouse.build import build_warehouse

HOSTILE = [
    "x' or '1'='1",
    "'; drop table mart_cost_breakdown; --",
    "$first_day",
    "api\" or true or \"",
    "%",
    "api\x00",
]


def invoke(*args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(cli, ["metrics", *args])
    return result.exit_code, json.loads(result.output)


@pytest.mark.parametrize(("args", "code"), [
    (["--period-days", "0"], "invalid_period_days"),
    (["--period-days", "366"], "invalid_period_days"),
    (["--period-days", "-5"], "invalid_period_days"),
    (["--period-days", "7.5"], "invalid_period_days"),
    (["--period-days", ""], "invalid_period_days"),
    (["--provider", "jenkins"], "unknown_provider"),
    (["--provider", "CircleCI"], "unknown_provider"),
    (["--as-of", "2026-02-30"], "invalid_date"),
    (["--as-of", "yesterday"], "invalid_date"),
    (["--org", " "], "invalid_filter"),
    (["--period-days"], "invalid_argument"),
    (["--since", "2026-01-01"], "invalid_argument"),
    (["extra"], "invalid_argument"),
])
@pytest.mark.parametrize("metric", ["costs", "performance", "dora"])
def test_bad_input_answers_the_error_envelope_and_exits_2(ciwatch_home: Path, metric: str, args: list[str],
                                                          code: str):
    exit_code, body = invoke(metric, *args)
    assert exit_code == 2
    assert list(body) == ["error"] and body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]


def test_a_missing_warehouse_is_an_error_too(ciwatch_home: Path):
    exit_code, body = invoke("costs")
    assert exit_code == 1
    assert body["error"]["code"] == "no_warehouse" and str(ciwatch_home) in body["error"]["message"]


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("option", ["--org", "--repo"])
def test_hostile_filter_values_match_nothing_and_change_nothing(june: Paths, option: str, value: str):
    for metric in ("performance", "dora"):
        exit_code, body = invoke(metric, "--as-of", "2026-06-30", option, value)
        assert exit_code == 0 and body["data"]["filters"][option.removeprefix("--")] == value
        assert body["data"].get("runs", 0) == 0 and body["data"].get("by_repo", []) == []
    exit_code, body = invoke("costs", "--as-of", "2026-06-30", option, value)
    assert exit_code == 0
    assert body["data"]["total_credits"] == 0 and body["data"]["by_project"] == []
    assert body["data"]["filters"][option.removeprefix("--")] == value
    with duckdb.connect(str(june.warehouse), read_only=True) as con:
        assert con.execute("select sum(credits) from mart_cost_breakdown").fetchone() == (812.0,)


def test_a_project_with_a_hostile_name_is_matched_exactly(ciwatch_home: Path):
    paths = Paths(ciwatch_home)
    name = HOSTILE[0]
    day = at(june_rows()[0]["job_run_date"], "09:00:00")
    hostile = usage_row("h1", pipeline="hp", workflow_id="hw", workflow="build", job="test", status="success",
                        credits=7, started=day, stopped=day, workflow_queued=day, workflow_started=day,
                        workflow_stopped=day) | {"vcs_url": None, "project_id": name}
    write_rows(paths.lake, CIRCLECI_USAGE_JOBS, [*june_rows(), hostile])
    build_warehouse(paths, 0.01)
    exit_code, body = invoke("costs", "--as-of", "2026-06-30", "--repo", name)
    assert exit_code == 0
    assert body["data"]["total_credits"] == 7
    assert [p["repo"] for p in body["data"]["by_project"]] == [name]


def test_a_warehouse_older_than_the_marts_asks_for_a_rebuild(ciwatch_home: Path):
    ciwatch_home.mkdir(parents=True)
    duckdb.connect(str(Paths(ciwatch_home).warehouse)).close()  # a warehouse without the marts
    exit_code, body = invoke("dora")
    assert exit_code == 1
    assert body["error"]["code"] == "stale_warehouse" and "--select 'kind:sql'" in body["error"]["message"]


IMPORTS = """
import sys
from ciwatch_etl.cli import main
sys.argv = ["ciwatch-etl", *sys.argv[1:]]
try:
    main()
except SystemExit:
    pass
heavy = sorted({m.split(".")[0] for m in sys.modules} & {"dagster", "polars", "pandera", "pyarrow", "matplotlib"})
print("loaded:", ",".join(heavy))
"""


@pytest.fixture(scope="module")
def empty_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("empty")
    build_warehouse(Paths(home), 0.0006)
    return home


@pytest.mark.parametrize(("args", "allowed"), [
    (["metrics", "costs", "--period-days", "7"], set()),
    (["metrics", "performance"], set()),
    (["metrics", "dora"], set()),
    (["report", "waste", "--month", "2026-01", "--out", "."], {"matplotlib"}),
])
def test_metrics_and_report_import_no_pipeline_libraries(args, allowed, empty_warehouse: Path, tmp_path: Path):
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", IMPORTS, *args], capture_output=True, text=True,
                          env={"CIWATCH_HOME": str(empty_warehouse), "PATH": ""}, cwd=tmp_path)
    assert '"error"' not in done.stdout, done.stdout
    loaded = done.stdout.strip().splitlines()[-1].removeprefix("loaded:").strip()
    assert set(filter(None, loaded.split(","))) <= allowed, done.stdout + done.stderr
