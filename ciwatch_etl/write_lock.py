"""The one-writer lock of a data folder, and who holds it.

The lock is a `filelock` on `<home>/.write.lock`; whoever takes it writes `<home>/.write.lock.owner`
(its pid, command and since when), so a second writer can say whom it waits for instead of
waiting in silence. A holder that died leaves its owner file behind, but not the lock (the system
releases it with the process), so the next writer takes the lock at once and overwrites the file.
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import dagster as dg
from filelock import FileLock, Timeout

from ciwatch_etl.data_folder import DataFolderError, why, writable_folder
from ciwatch_etl.environment import Paths

log = logging.getLogger(__name__)
# A command line is shown to name the holder, not to be replayed: long ones are cut.
MAX_COMMAND_CHARS = 200


class WarehouseBusyError(RuntimeError):
    """Another process holds the write lock of this data folder (named by its pid)."""


def holder(paths: Paths) -> str:
    """Who holds the lock, as the owner file says: `pid N (command) since T`, or that it is unknown."""
    try:
        owner = json.loads(paths.lock_owner.read_text(encoding="utf-8"))
        return f"pid {owner['pid']} ({owner['command']}) since {owner['since']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "a process that did not say who it is"


@contextmanager
def write_lock(paths: Paths, timeout: float, say: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the data folder's write lock; if it is taken, say once whom we wait for (`say`, by
    default the current Dagster step's log, else this module's logger), then wait up to `timeout`."""
    writable_folder(paths.home, "data folder")
    lock = FileLock(str(paths.lock))
    try:
        if not _acquired(lock, 0, paths):
            (say or _step_log())(f"waiting for the write lock of {paths.home}, held by {holder(paths)} "
                                 f"(up to {timeout:g} s)")
            if not _acquired(lock, timeout, paths):
                raise WarehouseBusyError(
                    f"another ciwatch-etl process is writing {paths.home}: its write lock ({paths.lock}) is "
                    f"still held after {timeout:g} s, by {holder(paths)}"
                )
        _write_owner(paths)
        yield
    finally:
        if lock.is_locked:
            paths.lock_owner.unlink(missing_ok=True)
            lock.release()


def _acquired(lock: FileLock, timeout: float, paths: Paths) -> bool:
    try:
        lock.acquire(timeout=timeout)
    except Timeout:
        return False
    except OSError as error:
        raise DataFolderError(f"data folder {paths.home} cannot be written: {why(error, paths.lock)}") from None
    return True


def command_line() -> str:
    """This process's command on one line: the program's name and its arguments (`python -c ...`
    for an inline script), cut to MAX_COMMAND_CHARS."""
    program = Path(sys.argv[0]).name if sys.argv and sys.argv[0] not in ("", "-c") else Path(sys.executable).name
    words = [program, *(["-c"] if sys.argv[:1] == ["-c"] else []), *sys.argv[1:]]
    return " ".join(shlex.join(words).split())[:MAX_COMMAND_CHARS]


def _write_owner(paths: Paths) -> None:
    owner = {
        "pid": os.getpid(),
        "command": command_line(),
        "since": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
    }
    partial = paths.lock_owner.with_name(f"{paths.lock_owner.name}.{os.getpid()}.tmp")
    partial.write_text(json.dumps(owner), encoding="utf-8")
    os.replace(partial, paths.lock_owner)  # a waiter never reads half a file


def _step_log() -> Callable[[str], None]:
    """The running Dagster step's log (the terminal and the run log), else this module's logger."""
    try:
        return dg.AssetExecutionContext.get().log.warning
    except dg.DagsterInvariantViolationError:
        return log.warning
