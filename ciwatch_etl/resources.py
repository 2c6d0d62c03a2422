"""Dagster resources shared by every source: where the warehouse lives and the one-writer lock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg

from ciwatch_etl import write_lock
from ciwatch_etl.settings import DEFAULT_CREDIT_PRICE_USD, Paths
from ciwatch_etl.write_lock import WarehouseBusyError

__all__ = ["OWNERS", "WRITE_LOCK_TIMEOUT_SECONDS", "WarehouseBusyError", "WarehouseResource"]

WRITE_LOCK_TIMEOUT_SECONDS = 600

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
    def write_lock(self, timeout: float = WRITE_LOCK_TIMEOUT_SECONDS,
                   say: Callable[[str], None] | None = None) -> Iterator[None]:
        """Only one process writes the lake and the warehouse at a time (across CLI and Dagster runs);
        a writer that has to wait says whom for (see `ciwatch_etl.write_lock`)."""
        with write_lock.write_lock(self.paths, timeout, say):
            yield
