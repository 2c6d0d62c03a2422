"""`ciwatch-etl load-usage` killed at each of its crash points, then run again: the lake, the
quarantine and every model of the warehouse end as an uninterrupted load leaves them, and nothing
is left over (staging folders, unfinished builds, spill folders, old model files).

The load changes a landed day, adds days, repeats a job and quarantines a row, so every point is
on its path; a subprocess per point is killed there with `os._exit` (no `finally` runs), and the
same command then runs in this process.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from crash_runs import (
    LANDING_TIMES,
    lake_contents,
    leftovers,
    model_file_counts,
    once,
    run_cli,
    seed_lake,
    session_folder,
    write_exports,
)
from warehouse_compare import warehouse_differences

from ciwatch_etl.cli import cli
from ciwatch_etl.crash_points import CRASH_EXIT_CODE, CRASH_POINTS, LOAD_USAGE_POINTS


@pytest.fixture(scope="session")
def exports(tmp_path_factory: pytest.TempPathFactory, refs_dir: Path) -> Path:
    return once(session_folder(tmp_path_factory), "crash-exports", lambda folder: write_exports(folder, refs_dir))


@pytest.fixture(scope="session")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory, exports: Path) -> Path:
    """The seeded lake, then `load-usage load.csv` run through; `reached.txt` lists its points."""

    def make(root: Path) -> None:
        seed_lake(root / "home", exports / "seed.csv")
        result = run_cli(["load-usage", str(exports / "load.csv")], root / "home", root,
                         CIWATCH_CRASH_LOG=str(root / "reached.txt"))
        assert result.returncode == 0, result.stderr

    return once(session_folder(tmp_path_factory), "crash-load-usage", make)


def test_an_uninterrupted_load_reaches_every_load_usage_point(uninterrupted: Path):
    reached = (uninterrupted / "reached.txt").read_text().split()
    assert set(LOAD_USAGE_POINTS) - set(reached) == set()
    assert set(reached) - set(CRASH_POINTS) == set(), "a point in the code is missing from crash_points"
    assert [p for p in dict.fromkeys(reached) if p in LOAD_USAGE_POINTS] == list(LOAD_USAGE_POINTS)


@pytest.mark.parametrize("point", LOAD_USAGE_POINTS)
def test_load_usage_killed_then_run_again_ends_as_an_uninterrupted_load(
    point: str, exports: Path, uninterrupted: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    home = tmp_path / "home"
    load = str(exports / "load.csv")
    seed_lake(home, exports / "seed.csv")

    crashed = run_cli(["load-usage", load], home, tmp_path, CIWATCH_CRASH_AT=point)
    assert crashed.returncode == CRASH_EXIT_CODE, crashed.stderr

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CIWATCH_HOME", str(home))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    again = CliRunner().invoke(cli, ["load-usage", load])
    assert again.exit_code == 0, again.output

    reference = uninterrupted / "home"
    assert lake_contents(home / "lake") == lake_contents(reference / "lake")
    assert warehouse_differences(home / "warehouse.duckdb", reference / "warehouse.duckdb", LANDING_TIMES) == []
    assert model_file_counts(home / "lake") == model_file_counts(reference / "lake")
    assert leftovers(home) == []
