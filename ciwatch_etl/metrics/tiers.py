"""DORA performance tiers from the 2023 State of DevOps thresholds.

    deployment frequency  deploy days per week: >= 5 elite, >= 1 high, >= once a month medium
    lead time             < 1 day elite, < 1 week high, < 1 month (30 days) medium
    change failure rate   <= 5% elite, <= 10% high, <= 15% medium
    time to restore       < 1 hour elite, < 1 day high, < 1 week medium
Anything worse is low; None (no data) stays None.
"""

from __future__ import annotations

HOUR, DAY = 3600, 86400
ONCE_A_MONTH_PER_WEEK = 7 / 31  # one deploy day in a 31-day month


def _tier(value: float | None, limits: tuple[float, float, float], *, lower_is_better: bool,
          inclusive: bool) -> str | None:
    if value is None:
        return None
    for name, limit in zip(("elite", "high", "medium"), limits):
        if lower_is_better:
            if value < limit or (inclusive and value == limit):
                return name
        elif value >= limit:
            return name
    return "low"


def deployment_frequency_tier(deploy_days_per_week: float | None) -> str | None:
    return _tier(deploy_days_per_week, (5, 1, ONCE_A_MONTH_PER_WEEK), lower_is_better=False, inclusive=True)


def lead_time_tier(median_seconds: float | None) -> str | None:
    return _tier(median_seconds, (DAY, 7 * DAY, 30 * DAY), lower_is_better=True, inclusive=False)


def change_failure_rate_tier(rate: float | None) -> str | None:
    return _tier(rate, (0.05, 0.10, 0.15), lower_is_better=True, inclusive=True)


def time_to_restore_tier(median_seconds: float | None) -> str | None:
    return _tier(median_seconds, (HOUR, DAY, 7 * DAY), lower_is_better=True, inclusive=False)
