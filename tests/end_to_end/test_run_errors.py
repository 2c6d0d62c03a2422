"""What a run says when it fails, and what it does with a damaged warehouse or lake file.

A failed step is one line on the terminal and its stack trace is in the run log the failure
names; a corrupt `warehouse.duckdb` is rebuilt from the lake (saying so in one line), and
`metrics` / `report` on one say how to rebuild it; a corrupt lake file stops the build naming the
file, and the previous warehouse stays.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from cost_month import june_rows
from lake_rows import write_rows

from ciwatch_etl.cli import cli
from ciwatch_etl.landing.tables import CIRCLECI_USAGE_JOBS
from ciwatch_etl.run_log import KEEP_RUN_LOGS, run_log
from ciwatch_etl.environment import Paths
from ciwatch_etl.warehouse.models import load_models
from ciwatch_etl.warehouse.state import UnreadableWarehouse, read_state

CREDITS = "select sum(total_credits) from fct_credit_usage_daily"
TERMINAL_LINE = re.compile(r"\d\d:\d\d:\d\d sql_models: ")


def run_models() -> object:
    return CliRunner().invoke(cli, ["run", "--select", "kind:sql"])


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder with June's usage in its lake and a warehouse built by `run` (copy it, never change it)."""
    home = tmp_path_factory.mktemp("built") / "home"
    write_rows(Paths(home).lake, CIRCLECI_USAGE_JOBS, june_rows())
    with pytest.MonkeyPatch.context() as env:
        env.setenv("CIWATCH_HOME", str(home))
        env.delenv("DAGSTER_HOME", raising=False)
        result = run_models()
    assert result.exit_code == 0, result.output
    return home


@pytest.fixture
def home(built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    copy = tmp_path / "home"
    shutil.copytree(built, copy)
    shutil.rmtree(copy / "logs")
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("CIWATCH_HOME", str(copy))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    return copy


def credits(warehouse: Path) -> float:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(CREDITS).fetchone()[0]


def test_a_run_shows_our_lines_on_the_terminal_and_every_event_in_its_log(home: Path):
    result = run_models()
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert lines and all(TERMINAL_LINE.match(line) for line in lines), lines
    assert lines[-1].endswith(f"sql_models: published {home / 'warehouse.duckdb'} ({len(load_models())} models)")
    [log] = (home / "logs").iterdir()
    text = log.read_text()
    assert "STEP_START" in text and "RUN_SUCCESS" in text and "ASSET_CHECK_EVALUATION" in text
    assert "STEP_START" not in result.output  # Dagster's events stay in the file


def test_a_failed_step_is_one_line_and_its_stack_trace_is_in_the_run_log(home: Path):
    warehouse = (home / "warehouse.duckdb").read_bytes()
    damaged = sorted((home / "lake" / "circleci" / "usage_jobs").glob("*/*.parquet"))[3]
    damaged.write_bytes(damaged.read_bytes()[:200])  # a truncated copy
    result = run_models()
    assert result.exit_code == 1
    assert "Traceback" not in result.output and 'File "' not in result.output
    error, step, where = result.stderr.splitlines()
    assert error == "error: run failed"
    assert step.startswith("sql_models: ciwatch_etl.warehouse.lake_files.RawLoadError: raw.circleci_usage_jobs: "
                           f"cannot read lake file {damaged}: ")
    [log] = (home / "logs").iterdir()
    assert where == f"run log (every event, with stack traces): {log}"
    assert 'File "' in log.read_text() and "RawLoadError" in log.read_text()
    assert (home / "warehouse.duckdb").read_bytes() == warehouse  # the previous warehouse stays


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_a_corrupt_warehouse_is_rebuilt_from_the_lake_saying_so_in_one_line(home: Path, damage: str):
    warehouse = home / "warehouse.duckdb"
    before = credits(warehouse)
    warehouse.write_bytes(os.urandom(5000) if damage == "garbage" else warehouse.read_bytes()[:100_000])
    with pytest.raises(UnreadableWarehouse, match=re.escape(f"{warehouse} cannot be read (")):
        read_state(warehouse)
    result = run_models()
    assert result.exit_code == 0, result.output
    [said] = [line for line in result.stderr.splitlines() if "cannot be read" in line]
    assert said.endswith("): every model is rebuilt from the lake") and f"warning: {warehouse} cannot" in said
    assert credits(warehouse) == before == 812


def test_metrics_and_report_on_a_corrupt_warehouse_say_how_to_rebuild_it(home: Path):
    warehouse = home / "warehouse.duckdb"
    warehouse.write_bytes(warehouse.read_bytes()[:100_000])
    metrics = CliRunner().invoke(cli, ["metrics", "costs", "--as-of", "2026-06-30"])
    assert metrics.exit_code == 1
    error = json.loads(metrics.stdout)["error"]
    assert error["code"] == "unreadable_warehouse"
    assert error["message"].startswith(f"{warehouse} cannot be read (")
    assert error["message"].endswith("rebuild it from the lake with `ciwatch-etl run --select kind:sql --full-refresh`")
    report = CliRunner().invoke(cli, ["report", "waste", "--month", "2026-06"])
    assert report.exit_code == 1
    assert report.stderr.splitlines() == [f"error: {error['message']}"]
    assert not (home / "reports").exists()


def test_only_the_newest_run_logs_are_kept(tmp_path: Path):
    folder = tmp_path / "logs"
    folder.mkdir()
    for n in range(KEEP_RUN_LOGS + 5):
        log = folder / f"run-{n:02}.log"
        log.write_text("old run\n")
        os.utime(log, ns=(n * 10**9, n * 10**9))
    with run_log(Paths(tmp_path), "new-run") as log:
        assert log.path == folder / "new-run.log"
    kept = sorted(p.name for p in folder.iterdir())
    assert kept == [f"run-{n:02}.log" for n in range(6, KEEP_RUN_LOGS + 5)]  # room for the new run's
