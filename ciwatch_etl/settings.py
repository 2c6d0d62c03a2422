"""Where ciwatch_etl keeps its data, and the few settings read from the environment.

Secrets are not read here: API tokens reach the clients only through Dagster resources
(`EnvVar`), so they never pass through run config or module globals.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from dotenv import load_dotenv

DEFAULT_CREDIT_PRICE_USD = 0.0006


def load_env_file() -> None:
    """Load `.env` from the working directory without overriding variables already set."""
    load_dotenv(Path.cwd() / ".env", override=False)


def default_home() -> Path:
    """The data folder when `CIWATCH_HOME` is not set."""
    return Path.home() / ".ciwatch"


@dataclass(frozen=True)
class Paths:
    """The data folder: lake, warehouse, reports. One folder per installation (`CIWATCH_HOME`)."""

    home: Path

    @classmethod
    def from_env(cls) -> "Paths":
        return cls(Path(os.environ.get("CIWATCH_HOME") or default_home()).expanduser().resolve())

    @property
    def lake(self) -> Path:
        return self.home / "lake"

    @property
    def warehouse(self) -> Path:
        return self.home / "warehouse.duckdb"

    @property
    def reports(self) -> Path:
        return self.home / "reports"

    @property
    def lock(self) -> Path:
        return self.home / ".write.lock"


def credit_price_usd() -> float:
    """USD per CircleCI credit (`CIWATCH_CREDIT_PRICE_USD`, default 0.0006)."""
    raw = os.environ.get("CIWATCH_CREDIT_PRICE_USD", "").strip()
    if not raw:
        return DEFAULT_CREDIT_PRICE_USD
    try:
        price = float(raw)
    except ValueError:
        raise ValueError(f"CIWATCH_CREDIT_PRICE_USD must be a number, got {raw!r}") from None
    if price < 0:
        raise ValueError(f"CIWATCH_CREDIT_PRICE_USD must not be negative, got {raw!r}")
    return price
