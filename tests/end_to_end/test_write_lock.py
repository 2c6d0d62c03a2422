"""Only one process writes a data folder at a time, and a writer that waits says for whom."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from ciwatch_etl.cli import cli
from ciwatch_etl.resources import WarehouseBusyError, DataFolderResource
from ciwatch_etl.environment import Paths
from ciwatch_etl.write_lock import holder

HOLD = """
import sys, time
from ciwatch_etl.resources import DataFolderResource
with DataFolderResource(home=sys.argv[1]).write_lock():
    print("locked", flush=True)
    time.sleep(60)
"""


@pytest.fixture
def held(tmp_path: Path) -> Iterator[subprocess.Popen]:
    """Another process holding the write lock of `tmp_path / "home"`."""
    process = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path / "home"), "nightly"],
                               stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == "locked"
        yield process
    finally:
        process.kill()
        process.wait()


def test_a_second_writer_says_whom_it_waits_for_then_gives_up_naming_the_pid(tmp_path: Path, held):
    said: list[str] = []
    home = tmp_path / "home"
    with pytest.raises(WarehouseBusyError) as busy:
        with DataFolderResource(home=str(home)).write_lock(timeout=0.5, say=said.append):
            pass
    assert said == [f"waiting for the write lock of {home}, held by {holder(Paths(home))} (up to 0.5 s)"]
    assert f"pid {held.pid} (python" in said[0] and f"-c {home} nightly) since " in said[0]
    message = str(busy.value)
    assert message.startswith(f"another ciwatch-etl process is writing {home}: ")
    assert f"still held after 0.5 s, by pid {held.pid} (" in message and "\n" not in message
    held.kill()
    held.wait()
    # The holder died: the system released its lock; its owner file is stale and is overwritten.
    with DataFolderResource(home=str(home)).write_lock(timeout=5, say=said.append):
        assert json.loads(Paths(home).lock_owner.read_text())["pid"] != held.pid
    assert len(said) == 1  # the lock was free: no wait announced
    assert not Paths(home).lock_owner.exists()  # released: nobody holds it


def test_a_free_lock_is_taken_at_once_and_records_its_holder(tmp_path: Path):
    said: list[str] = []
    paths = Paths(tmp_path)
    with DataFolderResource(home=str(tmp_path)).write_lock(timeout=5, say=said.append):
        owner = json.loads(paths.lock_owner.read_text())
        assert owner["pid"] == os.getpid() and owner["command"] and owner["since"].endswith("UTC")
    assert said == [] and not paths.lock_owner.exists()


def test_load_usage_against_a_held_lock_exits_1_with_one_line_naming_the_pid(
    tmp_path: Path, held, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("CIWATCH_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CIWATCH_LOCK_WAIT_SECONDS", "0.5")
    export = tmp_path / "usage.csv"
    export.write_text("not read: the lock comes first\n")
    result = CliRunner().invoke(cli, ["load-usage", str(export)])
    assert result.exit_code == 1, result.output
    waiting, error = result.stderr.splitlines()
    assert waiting.startswith(f"waiting for the write lock of {tmp_path / 'home'}, held by pid {held.pid} (")
    assert error.startswith("error: another ciwatch-etl process is writing") and f"by pid {held.pid} (" in error
    assert "Traceback" not in result.output


def test_a_run_step_waiting_for_the_lock_says_so_on_the_terminal(
    tmp_path: Path, held, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("CIWATCH_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CIWATCH_LOCK_WAIT_SECONDS", "0.5")
    result = CliRunner().invoke(cli, ["run", "--select", "kind:sql"])
    assert result.exit_code == 1, result.output
    lines = result.stderr.splitlines()
    assert any(line.endswith(f"sql_models: warning: waiting for the write lock of {tmp_path / 'home'}, held by "
                             f"{holder(Paths(tmp_path / 'home'))} (up to 0.5 s)") for line in lines), lines
    [failed] = [line for line in lines if line.startswith("sql_models: ")]
    assert "WarehouseBusyError: another ciwatch-etl process is writing" in failed and f"by pid {held.pid} (" in failed
    assert "Traceback" not in result.output and 'File "' not in result.output
