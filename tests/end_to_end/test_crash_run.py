"""`ciwatch-etl run` against the CircleCI simulator, killed at each of its own crash points (the
usage download, the API sources' landing, the SQL models' asset), then run again: the lake, the
quarantine and every model end as an uninterrupted run leaves them, and no download, staging or
build leftover remains. The load-usage points it shares are killed in test_crash_load_usage.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from crash_runs import (
    PULL_TIMES,
    RUN,
    circleci_env,
    lake_contents,
    leftovers,
    model_file_counts,
    once,
    run_cli,
    session_folder,
    simulator,
)
from warehouse_compare import warehouse_differences

from ciwatch_etl.cli import cli
from ciwatch_etl.crash_points import CRASH_EXIT_CODE, CRASH_POINTS, RUN_POINTS


@pytest.fixture(scope="session")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`run` through, from an empty data folder; `reached.txt` lists its points."""

    def make(root: Path) -> None:
        with simulator() as sim:
            result = run_cli(RUN, root / "home", root, CIWATCH_CRASH_LOG=str(root / "reached.txt"), **circleci_env(sim))
        assert result.returncode == 0, result.stderr

    return once(session_folder(tmp_path_factory), "crash-run", make)


def test_an_uninterrupted_run_reaches_every_run_point(uninterrupted: Path):
    reached = (uninterrupted / "reached.txt").read_text().split()
    assert set(RUN_POINTS) - set(reached) == set()
    assert set(reached) - set(CRASH_POINTS) == set(), "a point in the code is missing from crash_points"


@pytest.mark.parametrize("point", RUN_POINTS)
def test_run_killed_then_run_again_ends_as_an_uninterrupted_run(
    point: str, uninterrupted: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    home = tmp_path / "home"
    with simulator() as sim:
        crashed = run_cli(RUN, home, tmp_path, CIWATCH_CRASH_AT=point, **circleci_env(sim))
        assert crashed.returncode == CRASH_EXIT_CODE, crashed.stderr

        monkeypatch.chdir(tmp_path)
        for name, value in {"CIWATCH_HOME": str(home), **circleci_env(sim)}.items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("DAGSTER_HOME", raising=False)
        again = CliRunner().invoke(cli, RUN)
        assert again.exit_code == 0, again.output

    reference = uninterrupted / "home"
    assert lake_contents(home / "lake", PULL_TIMES) == lake_contents(reference / "lake", PULL_TIMES)
    assert warehouse_differences(home / "warehouse.duckdb", reference / "warehouse.duckdb", PULL_TIMES) == []
    assert model_file_counts(home / "lake") == model_file_counts(reference / "lake")
    assert leftovers(home) == []
