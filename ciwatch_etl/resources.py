"""Dagster resources shared by every source: where the warehouse lives and the one-writer lock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg

from ciwatch_etl import write_lock
from ciwatch_etl.landing.lake import remove_abandoned_staging
from ciwatch_etl.owned_folders import sweep
from ciwatch_etl.settings import DEFAULT_CREDIT_PRICE_USD, Paths, lock_wait_seconds
from ciwatch_etl.write_lock import WarehouseBusyError

__all__ = ["OWNERS", "WarehouseBusyError", "WarehouseResource"]

# Who answers for every asset: shown in the Dagster UI beside each asset and check.
OWNERS = ["team:data-platform"]


class WarehouseResource(dg.ConfigurableResource):
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
