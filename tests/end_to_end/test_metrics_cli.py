"""`metrics` input handling: the error envelope for every bad input, filters the warehouse does not
know (`not_found`, naming the known ones), and hostile filter values."""

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
from ciwatch_etl.metrics.known import SHOWN, not_found_message
from ciwatch_etl.environment import Paths
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
    (["--provider", "jenkins"], "not_found"),
    (["--provider", "CircleCI"], "not_found"),
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
def test_hostile_filter_values_are_not_found_and_change_nothing(june: Paths, option: str, value: str):
    for metric in ("costs", "performance", "dora"):
        exit_code, body = invoke(metric, "--as-of", "2026-06-30", option, value)
        assert exit_code == 2 and body["error"]["code"] == "not_found"
        assert repr(value) in body["error"]["message"]
    with duckdb.connect(str(june.warehouse), read_only=True) as con:
        assert con.execute("select sum(credits) from mart_cost_breakdown").fetchone() == (812.0,)


@pytest.mark.parametrize("metric", ["costs", "performance", "dora"])
def test_an_unknown_repo_org_or_provider_is_not_found_naming_the_known_ones(june: Paths, metric: str):
    with duckdb.connect(str(june.warehouse), read_only=True) as con:
        repos = [r for (r,) in con.execute("select distinct repo from fct_ci_runs order by repo").fetchall()]
        orgs = [o for (o,) in con.execute("select distinct org from fct_ci_runs where org is not null").fetchall()]
    typo = repos[0][:-1]
    exit_code, body = invoke(metric, "--as-of", "2026-06-30", "--repo", typo)
    assert exit_code == 2 and body["error"]["code"] == "not_found"
    message = body["error"]["message"]
    assert f"--repo {typo!r}" in message and f"Did you mean {repos[0]}" in message
    assert f"Known repos ({len(repos)}): {', '.join(repos)}." in message
    exit_code, body = invoke(metric, "--as-of", "2026-06-30", "--org", "no-such-org")
    assert exit_code == 2 and body["error"]["code"] == "not_found"
    assert all(org in body["error"]["message"] for org in orgs)
    exit_code, body = invoke(metric, "--provider", "jenkins")
    assert exit_code == 2 and body["error"]["code"] == "not_found"
    assert "circleci, sourcecraft, gocdnext" in body["error"]["message"]


def test_known_filters_that_match_nothing_together_answer_zeros(june: Paths):
    with duckdb.connect(str(june.warehouse), read_only=True) as con:
        org, repo = con.execute("select min(org), min(repo) from fct_ci_runs").fetchone()
    exit_code, body = invoke("performance", "--as-of", "2026-06-30", "--org", org, "--repo", repo,
                             "--provider", "gocdnext")
    assert exit_code == 0 and body["data"]["runs"] == 0 and body["data"]["by_workflow"] == []


@pytest.mark.parametrize(("value", "known", "message"), [
    ("shpo", ["api", "shop"], "--repo 'shpo' is not in the warehouse. Did you mean shop? Known repos (2): api, shop."),
    ("x", [], "--repo 'x' is not in the warehouse. It knows no repo yet."),
    ("zzz", [f"r{i:02}" for i in range(SHOWN + 5)],
     f"--repo 'zzz' is not in the warehouse. Known repos ({SHOWN + 5}): "
     f"{', '.join(f'r{i:02}' for i in range(SHOWN))}, and 5 more."),
])
def test_the_not_found_message_names_close_and_known_values_cut_short(value, known, message):
    assert not_found_message("repo", value, known) == message


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
