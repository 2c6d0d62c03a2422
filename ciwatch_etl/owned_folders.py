"""Scratch folders owned by one live process, and the sweeper of those a killed process left.

A load stages its files in `lake/_staging/<id>` and a usage pull downloads into
`downloads/<id>`; both are removed when the load ends, landed or not. A process that is killed
(SIGKILL, power cut) cannot remove its folder, so each folder is guarded by an OS lock: the
sibling file `<id>.lock` is held with `flock` for as long as the folder is in use, and the
kernel releases it when the process ends, however it ends. `sweep` removes the folders whose
lock it can take at once: no live process is using those, while a live run's folder (a
concurrent download polling an export for hours, say) stays locked and is kept.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import uuid
from pathlib import Path

LOCK_SUFFIX = ".lock"


def _lock_path(folder: Path) -> Path:
    return folder.with_name(folder.name + LOCK_SUFFIX)


class OwnedFolder:
    """A new folder `parent/<prefix><random id>`, locked until `remove`."""

    def __init__(self, parent: Path, prefix: str = ""):
        parent.mkdir(parents=True, exist_ok=True)
        self.path = parent / f"{prefix}{uuid.uuid4().hex}"
        self._lock = _lock_path(self.path)
        # The lock is taken before the folder exists: a sweeper never sees it unguarded.
        self._fd = _hold(self._lock)
        self.path.mkdir()

    def remove(self) -> None:
        """Remove the folder, then its lock file, then let go of the lock (once)."""
        if self._fd < 0:
            return
        shutil.rmtree(self.path, ignore_errors=True)
        self._lock.unlink(missing_ok=True)
        os.close(self._fd)
        self._fd = -1

    def __enter__(self) -> OwnedFolder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def _hold(lock: Path) -> int:
    """Lock `lock`, a file that stays at that path: a sweeper that took an earlier lock file of
    the same name may have unlinked it just before we locked it, so check and try again."""
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            if os.stat(lock).st_ino == os.fstat(fd).st_ino:
                return fd
        except FileNotFoundError:
            pass
        os.close(fd)


def sweep(parent: Path) -> list[Path]:
    """Remove what dead processes left in `parent`: folders (and files) no live process holds the
    lock of, and lock files whose folder is gone. Returns what it removed."""
    if not parent.is_dir():
        return []
    removed = []
    names = {entry.name.removesuffix(LOCK_SUFFIX) for entry in parent.iterdir()}
    for name in sorted(names):
        leftover = parent / name
        if _remove_unless_held(leftover):
            removed.append(leftover)
    return removed


def _remove_unless_held(leftover: Path) -> bool:
    lock = _lock_path(leftover)
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    except FileNotFoundError:  # the folder's parent went away meanwhile
        return False
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # a live process is using it
        if leftover.is_dir() and not leftover.is_symlink():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)
        lock.unlink(missing_ok=True)
        return True
    finally:
        os.close(fd)
