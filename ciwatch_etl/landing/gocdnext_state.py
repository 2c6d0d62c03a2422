"""What the lake holds of gocdnext runs: the high-water mark, the runs within the lookback, and
older runs still unfinished."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from ciwatch_etl.landing.lake_state import lake_connection
from ciwatch_etl.schemas.gocdnext import GOCDNEXT_RUNS
from ciwatch_etl.sources.gocdnext.records import TERMINAL_STATUSES, KnownRun


@dataclass(frozen=True)
class LakeState:
    high_water_mark: datetime | None  # newest created_at landed (naive UTC)
    known: dict[str, KnownRun]  # runs within the lookback
    open_run_ids: list[str]  # older runs the lake holds as unfinished


def read_lake_state(lake: Path, lookback: timedelta) -> LakeState:
    """What the lake already holds of gocdnext runs."""
    with lake_connection(lake, {"landed": GOCDNEXT_RUNS}) as con:
        # Read once: the three questions below ask the same few columns.
        con.execute("create temp table runs as select run_id, status, created_at, started_at, finished_at from landed")
        (high_water_mark,) = con.execute("select max(created_at) from runs").fetchone()
        if high_water_mark is None:
            return LakeState(None, {}, [])
        cutoff = high_water_mark - lookback
        known = {
            run_id: KnownRun(status, started, finished)
            for run_id, status, started, finished in con.execute(
                "select run_id, status, started_at, finished_at from runs where created_at >= ?", [cutoff]
            ).fetchall()
        }
        open_ids = [
            run_id
            for (run_id,) in con.execute(
                "select run_id from runs where created_at < ? and status not in (select unnest(?)) "
                "order by created_at",
                [cutoff, sorted(TERMINAL_STATUSES)],
            ).fetchall()
        ]
    return LakeState(high_water_mark, known, open_ids)
