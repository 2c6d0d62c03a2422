"""Writes that fail half-way leave the data as it was: a full disk (a file-size limit, so every
write beyond it fails with EFBIG) during a load or a rebuild, and a writer killed holding the lock.
"""

from __future__ import annotations

import resource
import signal
import subprocess
from pathlib import Path

import pytest
from crash_runs import CLI, cli_env, leftovers, run_cli, seed_lake, write_exports

from ciwatch_etl.crash_points import CRASH_EXIT_CODE
from ciwatch_etl.resources import DataFolderResource
from ciwatch_etl.environment import Paths
from ciwatch_etl.warehouse.build import build_warehouse

# Smaller than one day's Parquet file (about 9 KB): the load fails writing its staged files.
LANDING_LIMIT = 8_000
# Larger than the lake's files, smaller than the warehouse (about 4 MB): the build fails.
BUILD_LIMIT = 60_000


@pytest.fixture
def landed(tmp_path: Path, refs_dir: Path) -> Path:
    """A data folder with a landed lake and its warehouse, and `load.csv` beside it to load."""
    write_exports(tmp_path, refs_dir)
    home = tmp_path / "home"
    seed_lake(home, tmp_path / "seed.csv")
    build_warehouse(Paths(home), 0.0006)
    return home


def _files(home: Path) -> dict[str, bytes]:
    """Every file of the data folder and its bytes, but the write lock's (empty) file and the run
    logs (a failed run adds its own)."""
    return {str(p.relative_to(home)): p.read_bytes() for p in sorted(home.rglob("*"))
            if p.is_file() and p != Paths(home).lock and Paths(home).logs not in p.parents}


def _with_file_size_limit(args: list[str], home: Path, limit: int) -> subprocess.CompletedProcess[str]:
    def limit_file_size() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails instead of killing
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run([*CLI, *args], env=cli_env(home), cwd=home.parent, capture_output=True, text=True,
                          timeout=600, preexec_fn=limit_file_size)


def _one_error_line(stderr: str) -> str:
    assert "Traceback" not in stderr and 'File "' not in stderr, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and stderr.rstrip().endswith(errors[0]), stderr
    return errors[0]


def test_a_load_that_fills_the_disk_fails_on_one_line_and_changes_nothing(landed: Path):
    before = _files(landed)
    result = _with_file_size_limit(["load-usage", str(landed.parent / "load.csv")], landed, LANDING_LIMIT)
    assert result.returncode == 1
    line = _one_error_line(result.stderr)
    assert f"landing into {landed / 'lake'} failed" in line and "File too large" in line
    assert _files(landed) == before
    assert leftovers(landed) == []


def test_a_rebuild_that_fills_the_disk_fails_on_one_line_and_keeps_the_warehouse(landed: Path):
    before = _files(landed)
    result = _with_file_size_limit(["run", "--select", "kind:sql"], landed, BUILD_LIMIT)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and 'File "' not in result.stderr, result.stderr
    error, step, log = result.stderr.rstrip().splitlines()[-3:]
    assert error == "error: run failed"
    assert step.startswith("sql_models: ") and "File too large" in step
    assert log.startswith("run log (every event, with stack traces): ")
    assert _files(landed) == before
    assert leftovers(landed) == []


def test_a_writer_killed_holding_the_lock_does_not_block_the_next(landed: Path):
    killed = run_cli(["load-usage", str(landed.parent / "load.csv")], landed, landed.parent,
                     CIWATCH_CRASH_AT="usage.staged")  # under the write lock
    assert killed.returncode == CRASH_EXIT_CODE
    assert (landed / ".write.lock").exists() and leftovers(landed), "the killed load left its lock and staging"
    with DataFolderResource(home=str(landed)).write_lock(timeout=0):
        assert leftovers(landed) == []
