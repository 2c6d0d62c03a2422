"""Every Dagster resource of the code location: where the warehouse lives (and its one-writer lock),
and each source API's settings. Tokens arrive only through `dg.EnvVar` (see `definitions.py`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg

from ciwatch_etl import write_lock
from ciwatch_etl.landing.lake import remove_abandoned_staging
from ciwatch_etl.owned_folders import sweep
from ciwatch_etl.environment import DEFAULT_CREDIT_PRICE_USD, Paths, lock_wait_seconds
from ciwatch_etl.sources.circleci.usage_export import DEFAULT_API_URL as CIRCLECI_API_URL
from ciwatch_etl.sources.circleci.usage_export import CircleCIUsageClient
from ciwatch_etl.sources.gocdnext.client import GocdnextClient
from ciwatch_etl.sources.http import RetryPolicy
from ciwatch_etl.sources.sourcecraft.client import DEFAULT_API_URL as SOURCECRAFT_API_URL
from ciwatch_etl.sources.sourcecraft.client import DEFAULT_PAGE_SIZE, SourceCraftClient
from ciwatch_etl.write_lock import WarehouseBusyError

__all__ = [
    "OWNERS", "CircleCIResource", "DataFolderResource", "GocdnextResource", "SourceCraftResource", "WarehouseBusyError",
]

# Who answers for every asset: shown in the Dagster UI beside each asset and check.
OWNERS = ["team:data-platform"]


class DataFolderResource(dg.ConfigurableResource):
    """The data folder (`CIWATCH_HOME`): Parquet lake, DuckDB warehouse, reports."""

    home: str
    credit_price_usd: float = DEFAULT_CREDIT_PRICE_USD

    @property
    def paths(self) -> Paths:
        return Paths(Path(self.home).expanduser().resolve())

    @contextmanager
    def write_lock(self, timeout: float | None = None, say: Callable[[str], None] | None = None) -> Iterator[None]:
        """Only one process writes the lake and the warehouse at a time (across CLI and Dagster runs);
        a writer that has to wait says whom for, and waits up to `timeout` (default
        `CIWATCH_LOCK_WAIT_SECONDS`). See `ciwatch_etl.write_lock`.

        Taking the lock first removes what killed writers left: their staging folders, and the
        download folders no live pull holds (see `owned_folders`). The lock itself is an OS lock,
        released when its holder dies however it dies, so a killed run never blocks the next.
        """
        paths = self.paths
        with write_lock.write_lock(paths, lock_wait_seconds() if timeout is None else timeout, say):
            remove_abandoned_staging(paths.lake)
            sweep(paths.downloads)
            yield


def _listed(value: str) -> list[str]:
    """A comma-separated setting as a list, blanks dropped."""
    return [item.strip() for item in value.split(",") if item.strip()]


class _ApiResource(dg.ConfigurableResource):
    """What every source API's resource has: a token (a secret) and how long a `Retry-After` may hold us."""

    token: str | None = None
    retry_after_cap_seconds: float = 120.0

    @staticmethod
    def _unset(*settings: tuple[str, object]) -> list[str]:
        """The names of the settings (name, value) without a value: the source is skipped without them."""
        return [name for name, value in settings if not value]

    def _retry_policy(self) -> RetryPolicy:
        return RetryPolicy(retry_after_cap_seconds=self.retry_after_cap_seconds)


class CircleCIResource(_ApiResource):
    """CircleCI API v2 access. `token` arrives only through `EnvVar("CIRCLECI_TOKEN")`."""

    api_url: str = CIRCLECI_API_URL
    org_ids: str = ""  # comma-separated organization ids (CIRCLECI_ORG_IDS)
    # Comma-separated project slugs for Insights and pipelines (CIRCLECI_PROJECT_SLUGS), e.g.
    # gh/acme/api; when empty, the projects seen in the landed usage exports are used.
    project_slugs: str = ""
    poll_interval_seconds: float = 5.0

    @property
    def org_id_list(self) -> list[str]:
        return _listed(self.org_ids)

    @property
    def project_slug_list(self) -> list[str]:
        return _listed(self.project_slugs)

    @property
    def missing_settings(self) -> list[str]:
        return self._unset(("CIRCLECI_TOKEN", self.token), ("CIRCLECI_ORG_IDS", self.org_id_list))

    def usage_client(self) -> CircleCIUsageClient:
        return CircleCIUsageClient(self.token or "", self.api_url, poll_interval_seconds=self.poll_interval_seconds,
                                   policy=self._retry_policy())


class SourceCraftResource(_ApiResource):
    """SourceCraft API access. `token` arrives only through `EnvVar("SOURCECRAFT_TOKEN")`."""

    api_url: str = SOURCECRAFT_API_URL
    repo_ids: str = ""  # comma-separated repository ids (SOURCECRAFT_REPO_IDS)
    page_size: int = DEFAULT_PAGE_SIZE
    initial_days: int = 30  # how far back the first pull of a repo goes
    # Runs re-read around the high-water mark: ones still queued or running at the previous pull,
    # and ones whose creation time lies before runs already seen.
    lookback_days: float = 3.0

    @property
    def repo_id_list(self) -> list[str]:
        return _listed(self.repo_ids)

    @property
    def missing_settings(self) -> list[str]:
        return self._unset(("SOURCECRAFT_TOKEN", self.token), ("SOURCECRAFT_REPO_IDS", self.repo_id_list))

    def client(self) -> SourceCraftClient:
        return SourceCraftClient(self.token or "", self.api_url, page_size=self.page_size, policy=self._retry_policy())


class GocdnextResource(_ApiResource):
    """A gocdnext server's REST API. `token` arrives only through `EnvVar("GOCDNEXT_TOKEN")`."""

    url: str = ""  # server base URL (GOCDNEXT_URL), e.g. https://gocdnext.example.com
    name: str = ""  # what the server is called in the marts' `org` (GOCDNEXT_NAME; default: the URL's host)
    # Runs still queued or running at the last pull, re-tried jobs and late approvals change runs
    # created shortly before the high-water mark: the pull re-lists that many days.
    lookback_days: float = 3.0
    initial_days: float = 30.0  # how far back the first pull reaches from the newest run
    page_size: int = 200

    @property
    def missing_settings(self) -> list[str]:
        return self._unset(("GOCDNEXT_URL", self.url), ("GOCDNEXT_TOKEN", self.token))

    def client(self) -> GocdnextClient:
        return GocdnextClient(self.url, self.token or "", page_size=self.page_size, policy=self._retry_policy())
