"""Publish a load's staged day files into the lake, each partition replaced atomically.

A day the lake does not hold yet gets its staged file renamed into place: its rows are not
written again. A day the lake already holds is merged by key: the staged row replaces a lake row
of the same job id when its content differs; identical rows keep the lake's row and its
bookkeeping; lake rows the load does not mention stay. A day where nothing is new or changed
keeps its file untouched, so landing the same file twice changes no byte of the lake. Every
changed day's file is written in the load's staging folder first; only then are they renamed
over their partitions, so a full disk or a failed query stops the load with the lake as it was.

Within one load a job id may come more than once (overlapping exports): the latest file, then
the latest row, wins, and the others are counted as superseded.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from ciwatch_etl.crash_points import crash_point
from ciwatch_etl.landing.lake import MergeReport, sql_path
from ciwatch_etl.schemas.raw_table import RawTable


@dataclass
class StagedLoad:
    """A load's staged files by day, row counts by day, and its sources in load order."""

    files: dict[str, list[Path]]
    rows: dict[str, int]
    sources: list[str]
    maybe_duplicates: bool  # some job id hash came twice: find the superseded rows


def _columns(table: RawTable) -> str:
    return ", ".join(name for name, _ in table.columns)


def _lake_columns(table: RawTable, path: Path) -> str:
    """The table's columns read from a lake file an older loader may have written without some."""
    present = set(pq.read_schema(path).names)
    return ", ".join(name if name in present else f"null::{kind} as {name}" for name, kind in table.columns)


class Publisher:
    """Publishes one staged load into `table`'s day partitions; DuckDB (`con`) does the merges."""

    def __init__(self, con: duckdb.DuckDBPyConnection, table: RawTable, lake: Path, load: StagedLoad, scratch: Path):
        self.con = con
        self.scratch = scratch  # the load's staging folder: new files wait there until all are written
        self.table = table
        self.lake = lake
        self.load = load
        self.superseded_days: set[str] = set()
        self.superseded = 0

    def publish(self) -> MergeReport:
        """Write every changed day's new file into `scratch`, then rename them all into the lake:
        a full disk stops the load before any partition is replaced."""
        if self.load.maybe_duplicates:
            self._find_superseded()
        new = changed = unchanged = 0
        ready: dict[str, Path] = {}
        existing = {d for d in self.load.files if self.table.partition_file(self.lake, d).exists()}
        counts = self._compare(sorted(existing)) if existing else {}
        for day, parts in sorted(self.load.files.items()):
            target = self.table.partition_file(self.lake, day)
            if day in existing:
                n_new, n_changed, n_unchanged = counts.get(day, (0, 0, 0))
                unchanged += n_unchanged
                if n_new or n_changed:
                    ready[day] = self._write(self._merged(day, target))
                    new, changed = new + n_new, changed + n_changed
            elif len(parts) == 1 and day not in self.superseded_days:
                ready[day] = parts[0]  # the common case: the staged file is the partition
                new += self.load.rows[day]
            else:
                ready[day] = self._write(self._staged(day))
                new += self.con.execute("select count(*) from read_parquet($1)", [str(ready[day])]).fetchone()[0]
        crash_point("usage.merged")
        for day, written in ready.items():
            target = self.table.partition_file(self.lake, day)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(written, target)
            crash_point("usage.day_published")
        return MergeReport(tuple(ready), new, changed, unchanged)

    def _find_superseded(self) -> None:
        files = [str(p) for parts in self.load.files.values() for p in parts]
        seq = {source: i for i, source in enumerate(self.load.sources)}
        self.con.execute("create or replace temp table _seq (source varchar, seq integer)")
        self.con.executemany("insert into _seq values (?, ?)", list(seq.items()))
        self.con.execute(
            """
            create or replace temp table _superseded as
            with staged as (
                select job_id, job_run_date, _source_file, _source_row from read_parquet($1)
            ),
            repeated as (select job_id from staged group by job_id having count(*) > 1)
            select s.job_run_date::varchar as day, s._source_file, s._source_row
            from staged as s
            inner join repeated using (job_id)
            inner join _seq as q on q.source = s._source_file
            qualify row_number() over (partition by s.job_id order by q.seq desc, s._source_row desc) > 1
            """,
            [files],
        )
        days = self.con.execute("select day, count(*) from _superseded group by day").fetchall()
        self.superseded_days = {day for day, _ in days}
        self.superseded = sum(n for _, n in days)

    def _winners(self) -> str:
        """A WHERE clause keeping the staged rows `s` that won within the load."""
        if not self.superseded:
            return ""
        return (
            " where not exists (select 1 from _superseded as x"
            " where x._source_file = s._source_file and x._source_row = s._source_row)"
        )

    def _compare(self, days: list[str]) -> dict[str, tuple[int, int, int]]:
        """New, changed and unchanged rows per day against the lake, in one query."""
        part = self.table.partition_column
        key = " and ".join(f"e.{k} = s.{k}" for k in (*self.table.key, part))
        staged = [str(p) for day in days for p in self.load.files[day]]
        lake = [str(self.table.partition_file(self.lake, day)) for day in days]
        rows = self.con.execute(
            f"""
            with s as (select * from read_parquet($1) as s{self._winners()}),
            e as (select {', '.join(self.table.key)}, {part}, _row_hash from read_parquet($2, union_by_name = true))
            select
                s.{part}::varchar,
                count(*) filter (where e._row_hash is null),
                count(*) filter (where e._row_hash <> s._row_hash),
                count(*) filter (where e._row_hash = s._row_hash)
            from s left join e on {key}
            group by s.{part}
            """,
            [staged, lake],
        ).fetchall()
        return {day: (n, c, u) for day, n, c, u in rows}

    def _staged(self, day: str) -> str:
        files = ", ".join(f"'{sql_path(p)}'" for p in self.load.files[day])
        return f"(select {_columns(self.table)} from read_parquet([{files}]) as s{self._winners()})"

    def _merged(self, day: str, target: Path) -> str:
        key = " and ".join(f"e.{k} = s.{k}" for k in self.table.key)
        columns = _columns(self.table)
        lake = f"(select {_lake_columns(self.table, target)} from read_parquet('{sql_path(target)}'))"
        staged = self._staged(day)
        return f"""
            select {columns} from {lake} as e
            where not exists (select 1 from {staged} as s where {key} and s._row_hash <> e._row_hash)
            union all
            select {columns} from {staged} as s
            where not exists (select 1 from {lake} as e where {key} and e._row_hash = s._row_hash)
        """

    def _write(self, select: str) -> Path:
        """Write rows to a new file in `scratch` (COPY takes no parameters: the query names only
        our own staged and lake paths, quoted)."""
        written = self.scratch / f"day-{uuid.uuid4().hex}.parquet"
        self.con.execute(f"copy ({select}) to '{sql_path(written)}' (format parquet)")
        return written
