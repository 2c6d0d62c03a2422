"""Shared by the benchmarks: run a command as its own process and measure it; append results.

Each figure is a whole process (wall seconds, CPU seconds of the process and its children, peak
RSS), so imports and start-up count as a user would feel them. Ratios are taken against a floor
measured in the same run, pairs interleaved so that a busy moment of the machine hits both.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"
PYTHON = sys.executable
CLI = str(Path(sys.executable).with_name("ciwatch-etl"))


@dataclass(frozen=True)
class Measurement:
    wall_s: float
    cpu_s: float
    max_rss_mib: float


def measure(command: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> Measurement:
    """Run `command` to completion; raise with its output if it fails."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, env={**os.environ, **(env or {})}, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    output = process.stdout.read() if process.stdout else b""
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({process.returncode}):\n{output.decode(errors='replace')}")
    return Measurement(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def median(values: list[float]) -> float:
    return statistics.median(values)


def machine() -> str:
    return f"{platform.node() or 'host'}, {os.cpu_count()} cores, Python {platform.python_version()}"


def append_results(title: str, command: str, lines: list[str]) -> None:
    """Add one run's table under a heading naming the script, the date, the machine and the command."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    with RESULTS.open("a") as results:
        results.write(f"\n### {title}, {stamp}, {machine()}\n\n`{command}`\n\n")
        results.write("\n".join(lines) + "\n")
