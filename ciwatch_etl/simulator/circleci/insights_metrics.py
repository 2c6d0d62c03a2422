"""The arithmetic of Insights: credits as Insights counts them, and duration statistics.

Rounding follows a recorded response (demisto's README, two runs of 3005 s and 6011 s): mean
4508, p95 5860 (linear interpolation, cut to a whole second), standard deviation 2125.0 (the
sample's, cut likewise).

Insights credits are compute and docker layer caching (DLC) credits, as CircleCI documents them:
no user, storage, network or IP-range credits. That is one concrete reason CircleCI calls Insights
"not a financial reporting tool": the bill adds those buckets on top.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from typing import Any

from ciwatch_etl.simulator.circleci.entities import Job


def insights_credits(jobs: Iterable[Job]) -> int:
    """Whole credits, as Insights reports them, from the jobs' compute and DLC credits (hundredths)."""
    return (sum(job.credits.compute + job.credits.dlc for job in jobs) + 50) // 100


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def duration_metrics(seconds: Sequence[int]) -> dict[str, Any]:
    """min, mean, median, p95, max (whole seconds) and standard_deviation; all null without runs."""
    if not seconds:
        return {"min": None, "mean": None, "median": None, "p95": None, "max": None, "standard_deviation": None}
    return {
        "min": min(seconds),
        "mean": math.floor(statistics.fmean(seconds)),
        "median": math.floor(statistics.median(seconds)),
        "p95": math.floor(percentile(seconds, 0.95)),
        "max": max(seconds),
        "standard_deviation": float(math.floor(statistics.stdev(seconds))) if len(seconds) > 1 else 0.0,
    }


def median_int(values: Sequence[int]) -> int:
    return math.floor(statistics.median(values)) if values else 0
