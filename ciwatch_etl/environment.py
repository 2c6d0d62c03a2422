"""Where ciwatch_etl keeps its data, and the few settings read from the environment.

Secrets are not read here: API tokens reach the clients only through Dagster resources
(`EnvVar`), so they never pass through run config or module globals.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from dotenv import load_dotenv

DEFAULT_CREDIT_PRICE_USD = 0.0006
# One pull of one source (every request, retry, poll and download of it) ends by this deadline;
# a usage export may take hours to be ready (the client polls up to 4 h), hence the margin.
DEFAULT_PULL_DEADLINE_SECONDS = 6 * 3600.0
# Pages of one listing (one request series): no real listing of a night comes near it, an API
# handing out a new page token every time does.
DEFAULT_MAX_PAGES = 10_000
DEFAULT_POLL_SECONDS = 5.0
# A writer waits this long for another one to finish (a nightly run may take many minutes).
DEFAULT_LOCK_WAIT_SECONDS = 600.0
# The days a command accepts (--since, --until, --as-of, --month): CI history lies well inside
# them, and date arithmetic near year 1 or 9999 would overflow.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)


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
    def downloads(self) -> Path:
        """Usage export files being downloaded, one folder per pull (removed when it lands)."""
        return self.home / "downloads"

    @property
    def logs(self) -> Path:
        """One log file per CLI run, with every Dagster event and stack trace (the newest kept)."""
        return self.home / "logs"

    @property
    def reports(self) -> Path:
        return self.home / "reports"

    @property
    def lock(self) -> Path:
        return self.home / ".write.lock"

    @property
    def lock_owner(self) -> Path:
        """Who holds the write lock: pid, command, since when (see `write_lock`)."""
        return self.home / ".write.lock.owner"


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


def _positive(name: str, default: float, kind: type) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ValueError(f"{name} must be a positive {kind.__name__}, got {raw!r}") from None
    if value <= 0:
        raise ValueError(f"{name} must be a positive {kind.__name__}, got {raw!r}")
    return value


def pull_deadline_seconds() -> float:
    """Seconds one source's pull may take in all (`CIWATCH_PULL_DEADLINE_SECONDS`, default 6 h)."""
    return _positive("CIWATCH_PULL_DEADLINE_SECONDS", DEFAULT_PULL_DEADLINE_SECONDS, float)


def max_pages() -> int:
    """Pages one listing may have (`CIWATCH_MAX_PAGES`, default 10,000)."""
    return int(_positive("CIWATCH_MAX_PAGES", DEFAULT_MAX_PAGES, int))


def poll_seconds() -> float:
    """Seconds between polls of a CircleCI usage export (`CIRCLECI_POLL_SECONDS`, default 5)."""
    return _positive("CIRCLECI_POLL_SECONDS", DEFAULT_POLL_SECONDS, float)


def lock_wait_seconds() -> float:
    """Seconds a writer waits for the data folder's write lock (`CIWATCH_LOCK_WAIT_SECONDS`, default 600)."""
    return _positive("CIWATCH_LOCK_WAIT_SECONDS", DEFAULT_LOCK_WAIT_SECONDS, float)


def check_settings() -> None:
    """Read every setting a run takes from the environment; a bad one raises ValueError naming it."""
    credit_price_usd()
    pull_deadline_seconds()
    max_pages()
    poll_seconds()
    lock_wait_seconds()


def day_in_range(day: date, option: str) -> date:
    """`day` if it lies within FIRST_DAY .. LAST_DAY, else ValueError naming `option`."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"{option} {day.isoformat()} is outside {FIRST_DAY} .. {LAST_DAY}")
    return day
