"""The demo, run once per test session (10 days of history), for the tests that read its output.

Under pytest-xdist the workers share one run: the first to ask runs it under a file lock in the
session's common temp folder, the others wait and read what it left (home, exit code, output).
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from ciwatch_etl.cli import cli

DEMO_DAYS = 10


@dataclass(frozen=True)
class DemoRun:
    home: Path
    exit_code: int
    output: str  # stdout and stderr, interleaved
    stdout: str
    stderr: str


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return _run(tmp_path_factory.mktemp("demo"))
    shared = tmp_path_factory.getbasetemp().parent  # this session's, common to its workers
    with open(shared / "demo.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = shared / "demo.json"
        if not done.exists():
            run = _run(shared / "demo")
            done.write_text(json.dumps({**dataclasses.asdict(run), "home": str(run.home)}))
        saved = json.loads(done.read_text())
    return DemoRun(**{**saved, "home": Path(saved["home"])})


def _run(root: Path) -> DemoRun:
    root.mkdir(exist_ok=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        result = CliRunner().invoke(cli, ["demo", "--home", str(root / "home"), "--days", str(DEMO_DAYS)])
    return DemoRun(root / "home", result.exit_code, result.output, result.stdout, result.stderr)
