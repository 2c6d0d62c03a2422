"""Dagster resources shared by every source: where the warehouse lives and the one-writer lock."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import dagster as dg
from filelock import FileLock, Timeout

from ciwatch_etl.landing.lake import remove_abandoned_staging
from ciwatch_etl.owned_folders import sweep
from ciwatch_etl.settings import DEFAULT_CREDIT_PRICE_USD, Paths

WRITE_LOCK_TIMEOUT_SECONDS = 600

# Who answers for every asset: shown in the Dagster UI beside each asset and check.
OWNERS = ["team:data-platform"]


class WarehouseBusyError(RuntimeError):
    """Another process holds the write lock of this data folder."""


class WarehouseResource(dg.ConfigurableResource):
    """The data folder (`CIWATCH_HOME`): Parquet lake, DuckDB warehouse, reports."""

    home: str
    credit_price_usd: float = DEFAULT_CREDIT_PRICE_USD

    @property
    def paths(self) -> Paths:
        return Paths(Path(self.home).expanduser().resolve())

    @contextmanager
    def write_lock(self, timeout: float = WRITE_LOCK_TIMEOUT_SECONDS) -> Iterator[None]:
        """Only one process writes the lake and the warehouse at a time (across CLI and Dagster runs).

        Taking the lock first removes what killed writers left: their staging folders, and the
        download folders no live pull holds (see `owned_folders`). The lock itself is an OS lock,
        released when its holder dies however it dies, so a killed run never blocks the next.
        """
        paths = self.paths
        paths.home.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(paths.lock))
        try:
            lock.acquire(timeout=timeout)
        except Timeout:
            raise WarehouseBusyError(
                f"another ciwatch-etl process is writing {paths.home} (lock {paths.lock} held "
                f"for more than {timeout:.0f} s)"
            ) from None
        try:
            remove_abandoned_staging(paths.lake)
            sweep(paths.downloads)
            yield
        finally:
            lock.release()
