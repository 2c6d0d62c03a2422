"""Folders ciwatch_etl writes (the data folder, its logs, a report's folder): made if missing, or one
line saying why they cannot be.

As root, permissions never refuse a write, but a path under a regular file, or on a read-only
file system, still does; the message names the file in the way, else the operating system's reason.
"""

from __future__ import annotations

from pathlib import Path


class DataFolderError(RuntimeError):
    """A folder that cannot be made or written: names it and why, on one line."""


def writable_folder(folder: Path, what: str) -> Path:
    """Make `folder` (and its parents) if missing; raise DataFolderError naming `what` it is for."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DataFolderError(f"{what} {folder} cannot be written: {why(error, folder)}") from None
    return folder


def why(error: OSError, path: Path) -> str:
    """The reason a write at `path` failed, in words: the file standing where a folder should be,
    else the system's message (permission denied, read-only file system, no space left)."""
    in_the_way = next((p for p in (path, *path.parents) if p.exists() and not p.is_dir()), None)
    if in_the_way is not None:
        return f"{in_the_way} is a file, not a folder"
    return error.strerror or str(error)
