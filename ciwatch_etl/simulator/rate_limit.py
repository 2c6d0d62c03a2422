"""Sliding-window rate limits per key (an org), as the usage export endpoints enforce them."""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict, deque


class SlidingWindowLimit:
    """At most `limit` events per key in any `window_seconds`; tells how long to wait otherwise."""

    def __init__(self, limit: int, window_seconds: float) -> None:
        if limit < 1:
            raise ValueError(f"rate limit must be at least 1, got {limit}")
        self.limit = limit
        self.window_seconds = window_seconds
        self._lock = threading.Lock()
        self._events: defaultdict[str, deque[float]] = defaultdict(deque)

    def retry_after(self, key: str) -> int | None:
        """Whole seconds until another event fits, or None if one fits now."""
        now = time.monotonic()
        with self._lock:
            events = self._events[key]
            while events and events[0] <= now - self.window_seconds:
                events.popleft()
            if len(events) < self.limit:
                return None
            return max(1, math.ceil(events[0] + self.window_seconds - now))

    def record(self, key: str) -> None:
        with self._lock:
            self._events[key].append(time.monotonic())
