"""`GocdnextSimulator`: the synthetic gocdnext server over real HTTP on loopback.

Shaped like the CircleCI `Simulator`: a context manager with `.url`, `.token`, `.faults` and
`.requests`, plus ground truth for tests (`expected_run_ids`, ...) read from the same world the
API serves, and `advance(days)` to move the server's clock for a later pull.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from ciwatch_etl.simulator.gocdnext.api import API_PREFIX, GocdnextApi
from ciwatch_etl.simulator.gocdnext.faults import GocdnextFaults
from ciwatch_etl.simulator.gocdnext.view import run_detail, run_status
from ciwatch_etl.simulator.gocdnext.world import World
from ciwatch_etl.simulator.http_base import OneOriginSimulator

# The only token the simulator accepts. Shaped like a gocdnext API token (`gcn_` prefix); not a secret.
GOCDNEXT_SIMULATOR_TOKEN = "gcn_SimulatorToken_0123456789abcdef0123"


class GocdnextSimulator(OneOriginSimulator):
    """Use as a context manager, or call `start()` and `stop()`. `now` defaults to the wall clock."""

    def __init__(self, now: datetime | None = None, days: int = 30, seed: int = 7,
                 host: str = "127.0.0.1", port: int = 0) -> None:
        start = now if now is not None else datetime.now(UTC)
        self.world = World(seed=seed, now=start if start.tzinfo else start.replace(tzinfo=UTC), days=days)
        self.token = GOCDNEXT_SIMULATOR_TOKEN
        self.faults = GocdnextFaults()
        super().__init__(host, port)

    @property
    def url(self) -> str:
        """The server's base URL, as a user sets GOCDNEXT_URL (the API lives under /api/v1)."""
        return self.origin

    @property
    def api_url(self) -> str:
        return self.url + API_PREFIX

    @property
    def now(self) -> datetime:
        return self.world.now

    def _app(self, origin: str) -> GocdnextApi:
        return GocdnextApi(self.world, self.token, self.faults)

    def advance(self, days: float) -> None:
        """Move the server's clock: new runs appear, unfinished ones progress or finish."""
        self.world.advance(timedelta(days=days))

    # -- ground truth --------------------------------------------------------------------------

    def expected_run_ids(self, since: datetime | None = None) -> set[str]:
        """Ids of the runs the server lists now, created at or after `since` (all if None)."""
        return {r.id for r in self._runs(since)}

    def expected_stage_ids(self, since: datetime | None = None) -> set[str]:
        return {s.id for r in self._runs(since) for s in r.stages}

    def expected_job_ids(self, since: datetime | None = None) -> set[str]:
        return {j.id for r in self._runs(since) for s in r.stages for j in s.jobs}

    def expected_statuses(self, since: datetime | None = None) -> dict[str, str]:
        """Run id -> status as the server shows it now."""
        with self.world.lock:
            return {r.id: run_status(r, self.world.now) for r in self._runs(since)}

    def run_json(self, run_id: str) -> dict[str, Any]:
        """The run's detail exactly as `GET /api/v1/runs/{id}?logs=0` serves it now."""
        with self.world.lock:
            run = self.world.run(run_id)
            if run is None:
                raise KeyError(run_id)
            return run_detail(run, self.world.now, logs=0)

    def newest_created_at(self) -> datetime:
        return self.world.visible_runs()[0].created_at

    def _runs(self, since: datetime | None) -> list:
        with self.world.lock:
            runs = self.world.visible_runs()
            return list(runs) if since is None else [r for r in runs if r.created_at >= _utc(since)]


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
