"""`Simulator`: the synthetic world served over real HTTP on loopback, on two origins.

The API origin speaks CircleCI's `/api/v2`: usage exports, Insights, pipeline history and
projects, all from one world; the download origin stands in for the storage that CircleCI's pre-signed export
URLs point at. Clients talk to both exactly as to the real services.

The JSON endpoints see the world at `now` (02:00 UTC the day after `end_date`, a nightly run);
`advance(days)` lets nights pass. See `timeline` and `pagination` for the details clients meet.
"""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, timedelta
from types import TracebackType
from typing import Any

from ciwatch_etl.simulator.circleci.circleci_api import API_PREFIX, CircleCIApi
from ciwatch_etl.simulator.circleci.downloads import Downloads
from ciwatch_etl.simulator.circleci.export_jobs import ExportJobs
from ciwatch_etl.simulator.faults import Faults
from ciwatch_etl.simulator.http_base import RequestLog, RunningServer
from ciwatch_etl.simulator.circleci.insights_api import InsightsApi
from ciwatch_etl.simulator.circleci.pipelines_api import PipelinesApi
from ciwatch_etl.simulator.circleci.presign import UrlSigner
from ciwatch_etl.simulator.circleci.projects_api import ProjectsApi
from ciwatch_etl.simulator.rate_limit import SlidingWindowLimit
from ciwatch_etl.simulator.circleci.timeline import Timeline
from ciwatch_etl.simulator.circleci.usage_export_api import UsageExportApi
from ciwatch_etl.simulator.circleci.usage_rows import usage_rows
from ciwatch_etl.simulator.circleci.world import World

# The only token the simulator accepts. Shaped like a CircleCI personal API token; not a secret.
SIMULATOR_TOKEN = "CCIPAT_SimulatorToken_0123456789abcdef"


class Simulator:
    """Use as a context manager, or call `start()` and `stop()`."""

    def __init__(
        self,
        end_date: date | None = None,
        days: int = 120,
        seed: int = 7,
        post_limit_per_hour: int = 10,
        get_limit_per_minute: int = 10,
        host: str = "127.0.0.1",
        api_port: int = 0,
        download_port: int = 0,
        insights_retention_days: int = 90,
    ) -> None:
        self.world = World(seed=seed, end_date=end_date or datetime.now(UTC).date() - timedelta(days=1), days=days)
        self.timeline = Timeline(self.world)
        # Built here, not in start(), so a bad retention fails at construction.
        self._insights = InsightsApi(self.timeline, seed, insights_retention_days)
        self.token = SIMULATOR_TOKEN
        self.faults = Faults()
        self.requests = RequestLog()
        self._host = host
        self._ports = (api_port, download_port)
        self._limits = (post_limit_per_hour, get_limit_per_minute)
        self._api: RunningServer | None = None
        self._downloads: RunningServer | None = None

    @property
    def end_date(self) -> date:
        """The last simulated day (UTC); `first_date` is the first."""
        return self.world.end_date

    @property
    def first_date(self) -> date:
        return self.world.first_date

    @property
    def org_ids(self) -> list[str]:
        return [org.id for org in self.world.orgs]

    @property
    def project_slugs(self) -> list[str]:
        """`gh/<org>/<project>` for the GitHub org, `bb/<org>/<project>` for the Bitbucket one."""
        return self.timeline.project_slugs

    @property
    def now(self) -> datetime:
        """The JSON endpoints' present: 02:00 UTC on the day after `end_date` (a nightly run)."""
        return self.timeline.now

    def advance(self, days: int = 1) -> None:
        """Let `days` nights pass: `end_date` and `now` move on, the new days are generated as
        any other (a fresh Simulator with the later end_date and as many more days holds the same
        data), runs in progress finish, and the oldest runs leave the Insights window."""
        self.timeline.advance(days)

    @property
    def circleci_api_url(self) -> str:
        return self._running(self._api).origin + API_PREFIX

    @property
    def download_origin(self) -> str:
        return self._running(self._downloads).origin

    def start(self) -> Simulator:
        if self._api is not None:
            return self
        api_port, download_port = self._ports
        post_limit, get_limit = self._limits
        jobs = ExportJobs(self.world)
        downloads = RunningServer(self._host, download_port, origin="download", log=self.requests)
        try:
            api = RunningServer(self._host, api_port, origin="api", log=self.requests)
        except OSError:
            downloads.stop()  # e.g. the API port is taken: give the other port back
            raise
        # URLs are signed for the download origin's address, known once it is bound.
        signer = UrlSigner(secrets.token_bytes(32), downloads.origin)
        usage_export = UsageExportApi(
            world=self.world, jobs=jobs, faults=self.faults, signer=signer,
            post_limit=SlidingWindowLimit(post_limit, 3600), get_limit=SlidingWindowLimit(get_limit, 60),
        )
        downloads.serve(Downloads(jobs, self.faults, signer))
        # Projects last: an escaped slug followed by `/pipeline` also reads as a slug of three parts.
        routes = [*usage_export.routes(), *PipelinesApi(self.timeline).routes(), *self._insights.routes(),
                  *ProjectsApi(self.timeline).routes()]
        api.serve(CircleCIApi(self.token, self.faults, routes))
        self._api, self._downloads = api, downloads
        return self

    def stop(self) -> None:
        for server in (self._api, self._downloads):
            if server is not None:
                server.stop()
        self._api = self._downloads = None

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def expected_usage_rows(self, org_id: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """Exactly the rows an export of [start, end] for this org contains, in file order.

        Keyed by UPPER header; values typed (str, int, float, bool, date, naive UTC datetime) or
        None for `\\N`. Naive `start`/`end` are taken as UTC.
        """
        if self.world.org(org_id) is None:
            raise KeyError(f"unknown org {org_id}")
        return usage_rows(self.world, [org_id], _utc(start), _utc(end))

    @staticmethod
    def _running(server: RunningServer | None) -> RunningServer:
        if server is None:
            raise RuntimeError("the simulator is not running: call start() or use it as a context manager")
        return server


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
