"""`SourceCraftSimulator`: the SourceCraft CI runs API over real HTTP on loopback.

    with SourceCraftSimulator() as sim:
        httpx.get(f"{sim.api_url}/repos/id:{sim.repo_ids[0]}/cicd/runs",
                  headers={"Authorization": f"Bearer {sim.token}"})
        sim.advance(1)  # a day later: running runs have finished, new runs exist
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from ciwatch_etl.simulator.http_base import OneOriginSimulator
from ciwatch_etl.simulator.rate_limit import SlidingWindowLimit
from ciwatch_etl.simulator.sourcecraft.api import SourceCraftApi
from ciwatch_etl.simulator.sourcecraft.faults import SourceCraftFaults
from ciwatch_etl.simulator.sourcecraft.page_tokens import PageTokens
from ciwatch_etl.simulator.sourcecraft.render import render_run
from ciwatch_etl.simulator.sourcecraft.world import SourceCraftWorld

# The only token the simulator accepts. Not a secret: it opens nothing but the simulator.
SOURCECRAFT_SIMULATOR_TOKEN = "sc-pat-simulator-0123456789abcdef"


class SourceCraftSimulator(OneOriginSimulator):
    """Use as a context manager, or call `start()` and `stop()`.

    `now` (default: the current time) is the world's clock; `days` of history lie before it.
    Requests are limited to `requests_per_window` per `window_seconds` (429 with Retry-After).
    """

    def __init__(
        self,
        now: datetime | None = None,
        days: int = 45,
        seed: int = 7,
        requests_per_window: int = 600,
        window_seconds: float = 60.0,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        start = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
        self.world = SourceCraftWorld(seed=seed, now=start, days=days)
        self.token = SOURCECRAFT_SIMULATOR_TOKEN
        self.faults = SourceCraftFaults()
        self._limit = (requests_per_window, window_seconds)
        super().__init__(host, port)

    @property
    def api_url(self) -> str:
        return self.origin

    @property
    def repo_ids(self) -> list[str]:
        """Repositories with CI runs that the token may list."""
        return [r.id for r in self.world.repos]

    @property
    def empty_repo_id(self) -> str:
        """A repository the token may list that has never had a CI run."""
        return self.world.empty_repo.id

    @property
    def forbidden_repo_id(self) -> str:
        """Another organization's repository: listing its runs answers 403 PermissionDenied."""
        return self.world.forbidden_repo.id

    @property
    def now(self) -> datetime:
        """The world's clock, UTC (aware)."""
        return self.world.now.replace(tzinfo=UTC)

    def advance(self, days: float) -> None:
        """Move the clock on: runs progress and finish, new runs are created."""
        self.world.advance(timedelta(days=days))

    def _app(self, origin: str) -> SourceCraftApi:
        return SourceCraftApi(
            token=self.token, world=self.world, faults=self.faults, tokens=PageTokens(secrets.token_bytes(32)),
            limit=SlidingWindowLimit(*self._limit), artifact_origin=origin,
        )

    def expected_runs(self, repo_id: str, since: datetime | None = None) -> list[dict[str, Any]]:
        """Ground truth: every run of the repo as GetRun answers now, newest first.

        With `since` (naive = UTC), only runs created at or after it.
        """
        if self.world.repo(repo_id) is None:
            raise KeyError(f"unknown repo {repo_id}")
        now = self.world.now
        cutoff = None if since is None else (since.astimezone(UTC).replace(tzinfo=None) if since.tzinfo else since)
        origin = self.api_url if self._server is not None else "http://simulator.invalid"
        return [
            render_run(run, now, origin)
            for run in self.world.runs(repo_id)
            if cutoff is None or run.plan.created_at >= cutoff
        ]
