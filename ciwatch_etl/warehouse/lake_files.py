"""The raw lake's files as a build sees them: which exist, which changed since the last build.

A file is identified by its place in the lake (table, folder and name, not the lake's own path,
so a data folder moved or copied whole is no change), its size and its modification time. Landing replaces a day partition
that got new or changed rows by writing a new file and renaming it over the old one, so it shows
up as changed; the build then rebuilds incremental models from that day (minus their lookback).
A dimension's one file stands for every day (`EVERY_DAY`): a change to it rebuilds in full the
models that read it.
Every file a build has not seen before is opened once (its Parquet footer) before anything is
built, so a damaged file stops the build naming it instead of failing a model half-way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ciwatch_etl.landing.tables import RAW_TABLES

QUARANTINE = "quarantine"
# The day a dimension file is filed under: before every day, so its change reaches them all.
EVERY_DAY = date.min


class RawLoadError(RuntimeError):
    """A lake file cannot be read; names the table and the file."""


@dataclass(frozen=True)
class LakeFile:
    table: str  # raw table name, or "quarantine"
    partition: date | None  # the day partition (a dimension: EVERY_DAY); None for quarantine files
    path: str
    size: int
    modified_ns: int

    @property
    def identity(self) -> tuple[object, ...]:
        """The file as the lake knows it: where in the lake, how big, when written."""
        return (self.table, self.partition, *Path(self.path).parts[-2:], self.size, self.modified_ns)


def list_lake_files(lake: Path) -> list[LakeFile]:
    """Every data file of every raw table and of the quarantine, sorted by table and path."""
    files: list[LakeFile] = []
    for table in RAW_TABLES.values():
        for path in table.data_files(lake):
            day = EVERY_DAY if table.is_dimension else _partition_day(path, table.name)
            files.append(_lake_file(table.name, day, path))
    for path in sorted((lake / "_quarantine").glob("*/*.parquet")):
        files.append(_lake_file(QUARANTINE, None, path))
    return files


def _lake_file(table: str, partition: date | None, path: Path) -> LakeFile:
    stat = path.stat()
    return LakeFile(table, partition, str(path), stat.st_size, stat.st_mtime_ns)


def _partition_day(path: Path, table: str) -> date:
    value = path.parent.name.partition("=")[2]
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise RawLoadError(f"raw.{table}: partition folder {path.parent} does not name a day (YYYY-MM-DD)") from None


def changed_days(previous: Iterable[LakeFile], current: Iterable[LakeFile]) -> dict[str, date]:
    """Per raw table, the earliest day partition added, replaced or removed since `previous`."""
    before = {f.identity: f for f in previous}
    now = {f.identity: f for f in current}
    changed: dict[str, date] = {}
    for identity in before.keys() ^ now.keys():
        file = now.get(identity) or before[identity]
        if file.partition is not None and (file.table not in changed or file.partition < changed[file.table]):
            changed[file.table] = file.partition
    return changed


def check_readable(files: Iterable[LakeFile], known: Iterable[LakeFile]) -> None:
    """Open the footer of every file not in `known`; raise naming the first one that is not Parquet."""
    seen = {f.identity for f in known}
    for file in files:
        if file.identity in seen:
            continue
        try:
            pq.read_metadata(file.path)
        except (OSError, pa.ArrowException) as error:
            name = "raw.quarantine" if file.table == QUARANTINE else f"raw.{file.table}"
            raise RawLoadError(f"{name}: cannot read lake file {file.path}: {error}") from None
