"""What the lake holds of SourceCraft: per repo, the newest run landed and the runs last seen unfinished."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ciwatch_etl.landing.lake_state import query_lake
from ciwatch_etl.schemas.sourcecraft import SOURCECRAFT_RUNS
from ciwatch_etl.sources.sourcecraft.client import UNFINISHED_STATUSES


@dataclass(frozen=True)
class LakeState:
    """What the lake already holds of one repo: its newest run, and runs last seen unfinished."""

    newest_created_at: datetime | None = None
    unfinished: tuple[str, ...] = ()


def read_lake_state(lake: Path, unfinished_since: datetime) -> dict[str, LakeState]:
    """Per repo: the newest run creation time landed, and the slugs of runs landed unfinished."""
    rows = query_lake(
        lake,
        {"runs": SOURCECRAFT_RUNS},
        """
        select
            repo_id,
            max(created_at),
            list(run_slug order by run_number, run_slug)
                filter (where list_contains($statuses, status) and created_at >= $since)
        from runs
        group by repo_id
        """,
        {"statuses": sorted(UNFINISHED_STATUSES), "since": unfinished_since},
    )
    return {repo: LakeState(newest, tuple(slugs or ())) for repo, newest, slugs in rows}
