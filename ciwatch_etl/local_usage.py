"""`ciwatch-etl load-usage`: land usage export files a person downloaded, then rebuild the marts.

Both are Dagster runs, so Dagster records the load as it records an export pull: the usage asset
with the files as its run config, then the SQL models alone (no API is pulled).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

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
from ciwatch_etl.resources import DataFolderResource
from ciwatch_etl.environment import Paths, credit_price_usd
from ciwatch_etl.write_lock import WarehouseBusyError

if TYPE_CHECKING:
    from ciwatch_etl.pipeline import PipelineError

SUFFIXES = (".csv", ".csv.gz")
# What the rebuild after a load materializes: every SQL model, and no source pull.
SQL_MODELS = "kind:sql"


class LocalUsageError(RuntimeError):
    """Paths that are not usage files, or a file that cannot be read (names which): bad input.

    A data folder that cannot be written (`DataFolderError`), a write lock held too long
    (`WarehouseBusyError`) and a failed rebuild (`PipelineError`) are raised as they are."""


# The landing step's errors (by class name), as the command raises them.
LANDING_ERRORS: dict[str, type[Exception]] = {
    UsageFileError.__name__: LocalUsageError,
    DataFolderError.__name__: DataFolderError,
    WarehouseBusyError.__name__: WarehouseBusyError,
}


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


def load_local_usage(paths: list[Path], console: Console) -> None:
    from ciwatch_etl.pipeline import PipelineError, materialize, materialize_usage_files
    from ciwatch_etl.summary import print_load, print_run

    files = find_usage_files(paths)
    data_folder = DataFolderResource(home=str(Paths.from_env().home), credit_price_usd=credit_price_usd())
    # The lock is waited for here first, where a wait is said in plain words and a busy or
    # unwritable data folder stops the command before Dagster starts; the landing step takes it
    # again (and says so in its log if another writer came in between).
    with data_folder.write_lock(say=lambda line: console.print(line, markup=False, highlight=False, soft_wrap=True)):
        pass
    progress = Progress(
        TextColumn("[bold]landing"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}"),
        TimeElapsedColumn(), console=console,
    )
    try:
        with progress:
            task = progress.add_task("", total=len(files))
            landed = materialize_usage_files(
                files,
                lambda source, rows: progress.update(task, advance=1, description=f"{Path(source).name}: {rows:,} rows"),
                resources={"data_folder": data_folder},
            )
    except PipelineError as exc:
        raise _landing_error(exc) from None
    print_load(landed.metadata, console)
    crash_point("load_usage.landed")
    try:
        with console.status("rebuilding the warehouse"):
            run = materialize(selection=SQL_MODELS, resources={"data_folder": data_folder})
    except PipelineError as exc:
        raise PipelineError(f"files landed, but the warehouse rebuild failed:\n{exc}") from None
    crash_point("load_usage.rebuilt")
    print_run(run, console)


def _landing_error(exc: PipelineError) -> Exception:
    """A file that cannot be read is bad input, a data folder that cannot be written or is busy is
    itself (one line each, as before Dagster landed the files); anything else is the failed run."""
    for failure in exc.failures:
        if failure.error in LANDING_ERRORS:
            return LANDING_ERRORS[failure.error](failure.message)
    return exc
