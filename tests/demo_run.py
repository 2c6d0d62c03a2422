"""The demo, run once per test session (10 days of history), for the tests that read its output."""

from __future__ import annotations

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
    root = tmp_path_factory.mktemp("demo")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        result = CliRunner().invoke(cli, ["demo", "--home", str(root / "home"), "--days", str(DEMO_DAYS)])
    return DemoRun(root / "home", result.exit_code, result.output, result.stdout, result.stderr)
