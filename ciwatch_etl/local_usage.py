"""`ciwatch-etl load-usage`: land usage export files a person downloaded, then rebuild the marts."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from pathlib import Path

import duckdb
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from ciwatch_etl.crash_points import crash_point
from ciwatch_etl.data_folder import DataFolderError
from ciwatch_etl.landing.usage_csv import UsageFileError
from ciwatch_etl.landing.usage_load import UsageFile, land_usage_files
from ciwatch_etl.resources import WarehouseResource
from ciwatch_etl.settings import Paths, credit_price_usd

SUFFIXES = (".csv", ".csv.gz")


class LocalUsageError(RuntimeError):
    """Paths that are not usage files, or a file that cannot be read (names which): bad input.

    A data folder that cannot be written (`DataFolderError`), a write lock held too long
    (`WarehouseBusyError`) and a failed rebuild (`PipelineError`) are raised as they are."""


def find_usage_files(paths: list[Path]) -> list[Path]:
    """Files named on the command line, and the usage files inside named folders (sorted)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.is_file() and p.name.lower().endswith(SUFFIXES))
        elif path.is_file():
            if not path.name.lower().endswith(SUFFIXES):
                raise LocalUsageError(f"{path}: not a .csv or .csv.gz file")
            found.append(path)
        elif path.exists():  # a FIFO, socket or device: reading one could block for ever
            raise LocalUsageError(f"{path}: not a regular file")
        elif path.is_symlink():
            raise LocalUsageError(f"{path}: a symbolic link that leads nowhere (broken, or a loop)")
        else:
            raise LocalUsageError(f"{path}: no such file or folder")
    if not found:
        raise LocalUsageError(f"no .csv or .csv.gz files in {', '.join(map(str, paths))}")
    # A file reached twice (named twice, or through a symbolic link) is loaded once.
    return list(dict.fromkeys(p.resolve() for p in found))


def usage_file(path: Path) -> UsageFile:
    """A local file's quarantine identity is its absolute path: loading it again replaces it."""
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:16]
    return UsageFile(path=path, source=str(path), source_key=f"local-{digest}")


def load_local_usage(paths: list[Path], console: Console) -> None:
    from ciwatch_etl.pipeline import PipelineError, materialize
    from ciwatch_etl.summary import print_load, print_run

    files = [usage_file(p) for p in find_usage_files(paths)]
    home = Paths.from_env().home
    warehouse = WarehouseResource(home=str(home), credit_price_usd=credit_price_usd())
    progress = Progress(
        TextColumn("[bold]landing"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}"),
        TimeElapsedColumn(), console=console,
    )
    try:
        with warehouse.write_lock(say=lambda line: console.print(line, markup=False, highlight=False, soft_wrap=True)), progress:
            task = progress.add_task("", total=len(files))
            report = land_usage_files(
                warehouse.paths.lake,
                files,
                extracted_at=datetime.now(timezone.utc).replace(tzinfo=None),
                on_file=lambda f, rows: progress.update(task, advance=1, description=f"{Path(f.source).name}: {rows:,} rows"),
            )
    except UsageFileError as exc:
        raise LocalUsageError(str(exc)) from None
    except (OSError, duckdb.Error) as exc:  # a full disk, say: the partitions are renamed only once all are written
        raise DataFolderError(f"landing into {warehouse.paths.lake} failed: {' '.join(str(exc).split())}") from None
    print_load(report, console)
    crash_point("load_usage.landed")
    try:
        with console.status("rebuilding the warehouse"):
            run = materialize(selection="not key:circleci_usage_jobs")
    except PipelineError as exc:
        raise PipelineError(f"files landed, but the warehouse rebuild failed:\n{exc}") from None
    crash_point("load_usage.rebuilt")
    print_run(run, console)
