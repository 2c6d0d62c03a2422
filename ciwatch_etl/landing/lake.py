"""The Parquet lake: staged writes, per-day partition merges, quarantine files — all atomic.

A load first writes everything it read into a private staging folder. Only when every input
has been read does it merge into the lake: each day partition that gets a new or changed row
(a dimension: its one file) is rewritten in staging, and once all are written they are renamed
over the old files, so a reader sees the old or the new partition, never half, and a full disk
stops the merge before it replaced any. Re-landing the same rows changes nothing: a staged row
whose content hash equals the row already in the lake keeps the lake's row (and its bookkeeping)
as it was, and a partition of nothing but such rows keeps its file. Staging folders are guarded
by an OS lock while in use, so the next writer removes a killed load's (`remove_abandoned_staging`).
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from ciwatch_etl.crash_points import crash_point
from ciwatch_etl.schemas.raw_table import QUARANTINE_COLUMNS, RawTable
from ciwatch_etl.owned_folders import OwnedFolder, sweep


def arrow_schema(columns: tuple[tuple[str, str], ...]) -> pa.Schema:
    """Arrow schema for DuckDB column types used by the raw tables."""
    types = {
        "varchar": pa.string(),
        "date": pa.date32(),
        "timestamp": pa.timestamp("us"),
        "bigint": pa.int64(),
        "double": pa.float64(),
        "boolean": pa.bool_(),
    }
    return pa.schema([(name, types[kind]) for name, kind in columns])


QUARANTINE_SCHEMA = arrow_schema(QUARANTINE_COLUMNS)


def staging_folder(lake: Path) -> Path:
    return lake / "_staging"


def remove_abandoned_staging(lake: Path) -> list[Path]:
    """Remove the staging folders of loads that were killed (a live load's folder stays)."""
    return sweep(staging_folder(lake))


class Staging:
    """A private folder for one load; removed when the load ends, landed or not (and, if the
    process is killed, by the next load's `remove_abandoned_staging`)."""

    def __init__(self, lake: Path):
        self._folder = OwnedFolder(staging_folder(lake))
        self.root = self._folder.path

    def path(self, name: str) -> Path:
        return self.root / name

    def cleanup(self) -> None:
        self._folder.remove()


@dataclass(frozen=True)
class MergeReport:
    partitions: tuple[str, ...]  # the day partitions written (a dimension's: "all")
    rows_new: int
    rows_changed: int
    rows_unchanged: int


DIMENSION_PARTITION = "all"  # how a report names a dimension's one file


def _existing_files(table: RawTable, lake: Path, days: list[str | None]) -> list[str]:
    return [str(f) for day in days if (f := table.partition_file(lake, day)).exists()]


def merge_into_lake(
    con: duckdb.DuckDBPyConnection, table: RawTable, lake: Path, staged: list[Path], order_by: str
) -> MergeReport:
    """Merge staged Parquet rows into the table's day partitions, or its one dimension file (latest
    staged row per key wins).

    Only partitions that get a new or changed row are written: one whose rows all came again as
    they were keeps its file, so the warehouse build sees no change there (for a dimension, whose
    change rebuilds every day below it, that is what keeps a nightly build incremental).
    `order_by` ranks duplicates within the staged rows, latest first (a fixed SQL fragment).
    """
    if not staged:
        return MergeReport((), 0, 0, 0)
    key = ", ".join(table.key)
    columns = ", ".join(name for name, _ in table.columns)
    files = [str(p) for p in staged]
    rows, keys, days = con.execute(
        f"select count(*), count(distinct ({key})), list(distinct {_day(table)} order by {_day(table)}) "
        "from read_parquet($1)",
        [files],
    ).fetchone()
    if not rows:
        return MergeReport((), 0, 0, 0)
    dedup = f"qualify row_number() over (partition by {key} order by {order_by}) = 1" if keys < rows else ""
    staged_rows = f"select {columns} from read_parquet({_sql_list(files)}) {dedup}"
    existing = _existing_files(table, lake, days)
    try:
        if existing:
            con.execute(f"create or replace temp table _staged as {staged_rows}")
            con.execute(f"create or replace temp table _existing as select {columns} from read_parquet($1)", [existing])
            join = " and ".join(f"e.{k} = s.{k}" for k in table.key)
            counts = con.execute(
                f"""
                select
                    {_day(table, "s.")},
                    count(*) filter (where e._row_hash is null),
                    count(*) filter (where e._row_hash <> s._row_hash),
                    count(*) filter (where e._row_hash = s._row_hash)
                from _staged s left join _existing e on {join}
                group by all
                """
            ).fetchall()
            new, changed, unchanged = (sum(c[i] for c in counts) for i in (1, 2, 3))
            changed_days = sorted(day for day, new_rows, changed_rows, _ in counts if new_rows or changed_rows)
            merged = f"""
                select {columns} from _existing e
                where not exists (select 1 from _staged s where {join} and s._row_hash <> e._row_hash)
                union all
                select {columns} from _staged s
                where not exists (select 1 from _existing e where {join} and e._row_hash = s._row_hash)
            """
            if len(changed_days) < len(days):
                con.execute("create or replace temp table _days as select unnest($1::varchar[]) as day",
                            [changed_days])
                merged = f"select * from ({merged}) where {_day(table)} in (select day from _days)"
            days = changed_days
        else:
            # Nothing landed yet for these days: stream the staged rows straight into partitions.
            new, changed, unchanged = keys, 0, 0
            merged = staged_rows
        if days:
            _write(con, table, lake, merged, days)
    finally:
        con.execute("drop table if exists _staged; drop table if exists _existing; drop table if exists _days")
    return MergeReport(tuple(day or DIMENSION_PARTITION for day in days), new, changed, unchanged)


def _day(table: RawTable, alias: str = "") -> str:
    """The partition a row belongs to, as text; a dimension's rows all belong to its one file (null)."""
    return f"{alias}{table.partition_column}::varchar" if table.partition_column else "null::varchar"


def _write(con: duckdb.DuckDBPyConnection, table: RawTable, lake: Path, merged: str, days: list[str | None]) -> None:
    """Write the merged rows over their partition files (a dimension: its one file), each atomically.

    Every new file is written in a staging folder first and only then renamed into place: a full
    disk stops the merge before it has replaced any partition.
    """
    part = table.partition_column
    with OwnedFolder(staging_folder(lake), prefix="merge-") as out:
        if part is None:
            written = out.path / "data.parquet"
            con.execute(f"copy ({merged}) to '{sql_path(written)}' (format parquet)")
            crash_point("lake.dimension_written")
            target = table.partition_file(lake, None)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(written, target)
            return
        parts = out.path / "parts"
        con.execute(
            f"copy ({merged}) to '{sql_path(parts)}' "
            f"(format parquet, partition_by ({part}), write_partition_columns true)"
        )
        ready = {day: _one_file(sorted((parts / f"{part}={day}").glob("*.parquet")), out.path) for day in days}
        crash_point("lake.partitions_written")
        for day, written in ready.items():
            target = table.partition_file(lake, day)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(written, target)
            crash_point("lake.partition_replaced")


def sql_path(path: Path | str) -> str:
    """A path for COPY, which takes no parameters: our own staging paths, quotes doubled."""
    return str(path).replace("'", "''")


def _sql_list(paths: list[str]) -> str:
    return "[" + ", ".join(f"'{sql_path(p)}'" for p in paths) + "]"


def _one_file(written: list[Path], scratch: Path) -> Path:
    """A day's freshly written file(s) as one file, ready to be renamed into place."""
    if len(written) == 1:
        return written[0]
    combined = scratch / f"day-{uuid.uuid4().hex}.parquet"
    pq.write_table(pa.concat_tables(pq.read_table(p) for p in written), combined)
    return combined


def publish_quarantine(table: RawTable, lake: Path, source_key: str, staged: Path | None) -> None:
    """Replace the quarantine of one source file: its rejected rows now, or none.

    The same rejections as last time keep last time's file, so re-loading changes nothing.
    """
    directory = table.quarantine_directory(lake)
    target = directory / f"{source_key}.parquet"
    if staged is None:
        target.unlink(missing_ok=True)
        return
    if target.exists() and _same_rejections(target, staged):
        staged.unlink()
        return
    directory.mkdir(parents=True, exist_ok=True)
    os.replace(staged, target)
    crash_point("lake.quarantine_published")


def _same_rejections(a: Path, b: Path) -> bool:
    def rows(path: Path) -> pa.Table:
        return pq.read_table(path).drop_columns(["quarantined_at"])

    return rows(a).equals(rows(b))
