"""Helpers for the crash tests: the command line in a subprocess, tiny usage exports, what a data
folder holds (lake rows, leftovers) and a once-per-session folder shared by the xdist workers.

The usage exports live in that shared folder, so every test loads them from the same absolute
path: a local file's rows and quarantine are named by its path.
"""

from __future__ import annotations

import csv
import fcntl
import io
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from ciwatch_etl.landing.usage_load import land_usage_files
from ciwatch_etl.assets.circleci_usage import local_usage_file as usage_file
from ciwatch_etl.simulator.circleci import Simulator

PROJECT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-c", "from ciwatch_etl.cli import main; main()"]
# Columns that say when a row was landed: a re-run lands at another moment.
LANDING_TIMES = ("_extracted_at", "quarantined_at")
# An API row's source names its request, whose window starts a fixed time before the pull did.
PULL_TIMES = (*LANDING_TIMES, "_source_file", "source_file")
CRASH_ENV = ("CIWATCH_CRASH_AT", "CIWATCH_PAUSE_AT", "CIWATCH_CRASH_LOG")
# Relative to today: the usage export API refuses a start more than a year back.
END = datetime.now(timezone.utc).date() - timedelta(days=3)
RUN = ["run", "--since", (END - timedelta(days=1)).isoformat(), "--until", END.isoformat()]
OTHER_SOURCES = ("SOURCECRAFT_TOKEN", "SOURCECRAFT_REPO_IDS", "GOCDNEXT_URL", "GOCDNEXT_TOKEN")


def simulator() -> Simulator:
    """A CircleCI world of four days; `RUN` pulls its last two."""
    return Simulator(end_date=END, days=4)


def circleci_env(sim: Simulator) -> dict[str, str]:
    """CircleCI alone, one project for Insights and pipelines, export polls without waiting."""
    return {
        "CIRCLECI_API_URL": sim.circleci_api_url,
        "CIRCLECI_TOKEN": sim.token,
        "CIRCLECI_ORG_IDS": ",".join(sim.org_ids),
        "CIRCLECI_POLL_SECONDS": "0.01",
        "CIRCLECI_PROJECT_SLUGS": sim.project_slugs[0],
        **{name: "" for name in OTHER_SOURCES},
    }


def session_folder(factory: pytest.TempPathFactory) -> Path:
    """This session's temp folder common to its xdist workers (the base temp folder without xdist)."""
    base = factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def once(folder: Path, name: str, make: Callable[[Path], None]) -> Path:
    """`folder/name`, made in place by `make(path)` by the first worker to ask (the others wait for
    it; a warehouse names its lake files by path, so what is made is never moved)."""
    target = folder / name
    with open(folder / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (target / ".done").exists():
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir()
            make(target)
            (target / ".done").touch()
    return target


def cli_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment for the CLI subprocess: this worktree's code, the data folder, no Dagster
    home (an ephemeral instance), and the crash settings given (none inherited)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", *CRASH_ENV)}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PROJECT), env.get("PYTHONPATH", "")) if p)
    env["CIWATCH_HOME"] = str(home)
    return env | extra


def run_cli(args: list[str], home: Path, cwd: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], env=cli_env(home, **extra), cwd=cwd, capture_output=True, text=True,
                          timeout=600)


def write_exports(folder: Path, refs_dir: Path) -> None:
    """`seed.csv`, landed before the command under test, and `load.csv`, which changes a landed
    day, adds a day, repeats a job (the later row wins) and has a row to quarantine."""
    text = (refs_dir / "circleci/usage_export/faros/usage-export.csv").read_text()
    reader = csv.DictReader(io.StringIO(text))
    header, base = list(reader.fieldnames or []), next(reader)
    seed = [_row(base, f"seed-{i}", "2025-07-01", 2 + i) for i in range(3)]
    seed.append(_row(base, "seed-other-day", "2025-07-02", 4))
    changed = _row(base, "seed-0", "2025-07-01", 9)
    added = [_row(base, f"new-{i}", "2025-07-03", 1 + i) for i in range(2)]
    repeated = [_row(base, "twice", "2025-07-04", 5), _row(base, "twice", "2025-07-04", 6)]
    bad = _row(base, "bad-credits", "2025-07-04", 1)
    bad["TOTAL_CREDITS"] = "-5"
    _write(folder / "seed.csv", header, seed)
    _write(folder / "load.csv", header, [changed, *added, *repeated, bad])


def _row(base: dict[str, str], job_id: str, day: str, credits: int) -> dict[str, str]:
    return base | {
        "JOB_ID": job_id,
        "JOB_RUN_DATE": day,
        "JOB_RUN_QUEUED_AT": f"{day} 09:59:58.000",
        "JOB_RUN_STARTED_AT": f"{day} 10:00:00.000",
        "JOB_RUN_STOPPED_AT": f"{day} 10:00:08.000",
        "COMPUTE_CREDITS": str(credits),
        "DLC_CREDITS": "0",
        "USER_CREDITS": "0",
        "STORAGE_CREDITS": "0",
        "NETWORK_CREDITS": "0",
        "TOTAL_CREDITS": str(credits),
    }


def _write(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def seed_lake(home: Path, seed: Path) -> None:
    """Land `seed` as `load-usage` would (same source name), without building a warehouse."""
    land_usage_files(home / "lake", [usage_file(seed)], extracted_at=datetime(2026, 1, 1))


def lake_contents(lake: Path, ignore: tuple[str, ...] = LANDING_TIMES) -> dict[str, list[tuple]]:
    """Every raw and quarantine file by its place in the lake, its rows sorted, the `ignore`
    columns (the landing times) left out."""
    contents = {}
    for path in sorted(lake.rglob("*.parquet")):
        relative = path.relative_to(lake)
        if relative.parts[0] in ("_models", "_staging"):
            continue
        table = pq.read_table(path)
        table = table.drop_columns([c for c in ignore if c in table.column_names])
        contents[str(relative)] = sorted(tuple(row.values()) for row in table.to_pylist())
    return contents


def model_file_counts(lake: Path) -> dict[str, int]:
    """How many Parquet files each incremental model keeps (their names hold a build id)."""
    root = lake / "_models"
    if not root.exists():
        return {}
    return {folder.name: len(list(folder.rglob("*.parquet"))) for folder in sorted(root.iterdir())}


def leftovers(home: Path) -> list[str]:
    """Staging and download folders, unfinished builds and spill folders left in the data folder."""
    found = [*home.glob("lake/_staging/*"), *home.glob("downloads/*"), *home.glob("warehouse.duckdb.*building*"),
             *home.glob("*.spill"), *home.glob("lake/**/.data-*")]
    return sorted(str(p.relative_to(home)) for p in found)
