"""SIGTERM stops `load-usage`, `run` and `demo` cleanly: their staging and download folders are
removed, nothing is half-published, and they exit 143 with one line. Each command pauses at a
crash point (`CIWATCH_PAUSE_AT`) and is sent SIGTERM once it says it is there."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

from crash_runs import CLI, RUN, circleci_env, cli_env, leftovers, seed_lake, simulator, write_exports

from ciwatch_etl.crash_points import PAUSE_MARK
from ciwatch_etl.interrupts import INTERRUPTED_EXIT_CODE


def _terminated_at(point: str, args: list[str], home: Path, **extra: str) -> tuple[int, str]:
    """Run the command until it pauses at `point`, send SIGTERM: its exit code and whole stderr."""
    process = subprocess.Popen([*CLI, *args], env=cli_env(home, CIWATCH_PAUSE_AT=point, **extra), cwd=home.parent,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    before = []
    for line in process.stderr:
        before.append(line)
        if line.startswith(PAUSE_MARK):
            break
    assert before and before[-1] == f"{PAUSE_MARK}{point}\n", "".join(before)
    process.send_signal(signal.SIGTERM)
    rest = process.stderr.read()
    return process.wait(timeout=120), "".join(before) + rest


def _stopped_on_one_line(stderr: str, signal_name: str) -> None:
    assert "Traceback" not in stderr and 'File "' not in stderr, stderr
    assert stderr.rstrip().splitlines()[-1].startswith(f"error: stopped by {signal_name}: "), stderr
    assert sum(line.startswith("error:") for line in stderr.splitlines()) == 1


def _lake_files(home: Path) -> dict[str, bytes]:
    return {str(p.relative_to(home)): p.read_bytes() for p in sorted((home / "lake").rglob("*.parquet"))}


def test_load_usage_stopped_mid_publish_removes_its_staging_and_publishes_nothing(tmp_path: Path, refs_dir: Path):
    write_exports(tmp_path, refs_dir)
    home = tmp_path / "home"
    seed_lake(home, tmp_path / "seed.csv")
    before = _lake_files(home)
    # Paused with the merged days written in staging, none renamed into the lake yet.
    code, stderr = _terminated_at("usage.merged", ["load-usage", str(tmp_path / "load.csv")], home)
    assert code == INTERRUPTED_EXIT_CODE
    _stopped_on_one_line(stderr, "SIGTERM")
    assert _lake_files(home) == before
    assert leftovers(home) == []


def test_run_stopped_inside_dagster_removes_its_download_folder(tmp_path: Path):
    home = tmp_path / "home"
    with simulator() as sim:
        # Paused in the usage asset, export files downloaded, the write lock not yet taken.
        code, stderr = _terminated_at("download.finished", RUN, home, **circleci_env(sim))
    assert code == INTERRUPTED_EXIT_CODE
    _stopped_on_one_line(stderr, "SIGTERM or SIGINT")  # Dagster's handler takes the signal
    assert (home / "downloads").is_dir() and leftovers(home) == []
    assert not (home / "lake" / "circleci").exists()


def test_demo_stopped_while_landing_an_api_pull_removes_its_staging(tmp_path: Path):
    home = tmp_path / "home"
    code, stderr = _terminated_at("records.staged", ["demo", "--home", str(home), "--days", "2"], home)
    assert code == INTERRUPTED_EXIT_CODE
    _stopped_on_one_line(stderr, "SIGTERM or SIGINT")
    assert (home / "lake" / "_staging").is_dir() and leftovers(home) == []
    assert not (home / "warehouse.duckdb").exists()
