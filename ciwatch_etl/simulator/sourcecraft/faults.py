"""SourceCraft's switchable faults: the shared ones (429, 5xx, slow) plus two of its own.

- `insert_runs_while_paging`: the next request that carries a `page_token` first creates new
  runs in its repo, so the offset-based pages shift (the page repeats runs already served).
- `endless_empty_page`: the next list request gets no runs but a `next_page_token` anyway, as
  from a server that never says it is done: a client must stop on an empty page.
"""

from __future__ import annotations

from dataclasses import dataclass

from ciwatch_etl.simulator.faults import Faults


@dataclass(frozen=True)
class InsertRuns:
    count: int


@dataclass(frozen=True)
class EndlessEmptyPage:
    pass


class SourceCraftFaults(Faults):
    def rate_limit(self, times: int = 1, retry_after: int = 1, plain_text: bool = False) -> None:
        """SourceCraft answers 429 with its JSON error envelope unless `plain_text` (a proxy's)."""
        super().rate_limit(times, retry_after, plain_text)

    def insert_runs_while_paging(self, times: int = 1, count: int = 1) -> None:
        if count < 1:
            raise ValueError(f"count must be at least 1, got {count}")
        self._arm(InsertRuns(count), times)

    def endless_empty_page(self, times: int = 1) -> None:
        self._arm(EndlessEmptyPage(), times)
