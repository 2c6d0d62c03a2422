"""gocdnext's switchable faults: the shared ones (429, 5xx, slow) plus runs arriving mid-paging.

Limit/offset paging over a newest-first list shifts when runs are created between two page
requests: every row moves down, so the next page starts with rows the client already has.
"""

from __future__ import annotations

from dataclasses import dataclass

from ciwatch_etl.simulator.faults import Faults


@dataclass(frozen=True)
class InsertRuns:
    count: int  # runs created just before a page request is answered


class GocdnextFaults(Faults):
    def insert_runs_while_paging(self, times: int = 1, runs_per_page: int = 3) -> None:
        """The next `times` requests for a later page (offset > 0) each see `runs_per_page` new runs first."""
        self._arm(InsertRuns(runs_per_page), times)
