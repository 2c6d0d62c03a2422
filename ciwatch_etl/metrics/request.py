"""What a `metrics` call asks for: the window of days and the filters, validated."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from ciwatch_etl.environment import day_in_range

PROVIDERS = ("circleci", "sourcecraft", "gocdnext")
MAX_PERIOD_DAYS = 365


class MetricsError(ValueError):
    """Bad input or a missing warehouse: becomes `{"error": {"code", "message"}}`."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def envelope(self) -> dict[str, dict[str, str]]:
        return {"error": {"code": self.code, "message": self.message}}


@dataclass(frozen=True)
class MetricsRequest:
    """The N days ending at `as_of` (inclusive, UTC), narrowed to a provider, org and repo."""

    period_days: int
    as_of: date
    provider: str | None = None
    org: str | None = None
    repo: str | None = None

    @property
    def first_day(self) -> date:
        return self.as_of - timedelta(days=self.period_days - 1)

    def previous(self) -> "MetricsRequest":
        """The period of the same length just before this one."""
        return MetricsRequest(self.period_days, self.first_day - timedelta(days=1), self.provider, self.org,
                              self.repo)

    def describe(self) -> dict[str, object]:
        return {
            "period_days": self.period_days,
            "first_day": self.first_day.isoformat(),
            "last_day": self.as_of.isoformat(),
            "filters": {"provider": self.provider, "org": self.org, "repo": self.repo},
        }

    def params(self) -> dict[str, object]:
        """The values a metric query may bind: the window's days and the filters (None: any)."""
        return {"first_day": self.first_day, "last_day": self.as_of, "period_days": self.period_days,
                "provider": self.provider, "org": self.org, "repo": self.repo}


def parse_request(period_days: str | None, as_of: str | None, provider: str | None, org: str | None,
                  repo: str | None) -> MetricsRequest:
    """Validate the command-line strings; raise MetricsError naming the bad option."""
    days = _period_days(period_days)
    if provider is not None and provider not in PROVIDERS:
        raise MetricsError("not_found", f"--provider {provider!r} is not one of {', '.join(PROVIDERS)}")
    for option, value in (("--org", org), ("--repo", repo)):
        if value is not None and not value.strip():
            raise MetricsError("invalid_filter", f"{option} must not be empty")
    return MetricsRequest(days, _as_of(as_of), provider, org, repo)


def _period_days(value: str | None) -> int:
    if value is None:
        return 30
    try:
        days = int(value)
    except ValueError:
        raise MetricsError("invalid_period_days", f"--period-days {value!r} is not a whole number") from None
    if not 1 <= days <= MAX_PERIOD_DAYS:
        raise MetricsError("invalid_period_days",
                           f"--period-days {days} is outside 1..{MAX_PERIOD_DAYS}")
    return days


def _as_of(value: str | None) -> date:
    if value is None:
        return datetime.now(timezone.utc).date()
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise MetricsError("invalid_date", f"--as-of {value!r} is not a date (YYYY-MM-DD)") from None
    try:
        return day_in_range(day, "--as-of")
    except ValueError as error:
        raise MetricsError("invalid_date", str(error)) from None
