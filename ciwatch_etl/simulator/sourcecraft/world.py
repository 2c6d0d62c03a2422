"""The SourceCraft world: repositories, a clock, and each repository's runs in creation order.

Runs are planned ahead (`timeline.py`) and become visible once the clock passes their creation
time; each then takes the repo's next run number, which is its slug ("Run counter serves as a
slug"). A run inserted by hand takes the next number at once, so later runs number after it.
All times are naive UTC. Thread-safe: the HTTP server answers from several threads.
"""

from __future__ import annotations

import bisect
import random
import threading
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from ciwatch_etl.simulator.sourcecraft.config import (
    EMPTY_REPO,
    FORBIDDEN_REPO,
    REPOS,
    RepoSpec,
)
from ciwatch_etl.simulator.sourcecraft.plan import RunPlan
from ciwatch_etl.simulator.sourcecraft.timeline import (
    day_runs,
    inserted_run,
    live_runs,
    stuck_run,
)

_ID_NAMESPACE = uuid.UUID("2b6f9a52-6f0e-4c1b-9d57-0c3f1d8e7a41")
MIN_DAYS = 7  # the run stuck waiting for a runner was created five days before "now"


@dataclass(frozen=True)
class SimRun:
    repo: RepoSpec
    repo_id: str
    number: int
    plan: RunPlan

    @property
    def slug(self) -> str:
        return str(self.number)


@dataclass
class SimRepo:
    spec: RepoSpec
    id: str
    next_number: int
    runs: list[SimRun] = field(default_factory=list)  # oldest first
    pending: list[RunPlan] = field(default_factory=list)  # planned, not created yet; by creation time
    planned_through: date | None = None


class SourceCraftWorld:
    def __init__(self, *, seed: int, now: datetime, days: int) -> None:
        if days < MIN_DAYS:
            raise ValueError(f"days must be at least {MIN_DAYS}, got {days}")
        self.seed = seed
        self.first_date = (now - timedelta(days=days)).date()
        self._now = now
        self._lock = threading.RLock()
        self._inserted = 0
        self.repos = tuple(self._make_repo(spec) for spec in REPOS)
        self.empty_repo = self._make_repo(EMPTY_REPO)
        self.forbidden_repo = self._make_repo(FORBIDDEN_REPO)
        self._by_id = {r.id: r for r in (*self.repos, self.empty_repo, self.forbidden_repo)}
        for repo in self._by_id.values():
            if repo.spec.activity:
                self._plan(repo, live_runs(seed, repo.spec, now))
        self._plan(self.repos[0], [stuck_run(seed, self.repos[0].spec, now)])
        self._materialize()

    @property
    def now(self) -> datetime:
        with self._lock:
            return self._now

    def repo(self, repo_id: str) -> SimRepo | None:
        return self._by_id.get(repo_id)

    def advance(self, delta: timedelta) -> None:
        if delta < timedelta(0):
            raise ValueError("time only moves forward")
        with self._lock:
            self._now += delta
            self._materialize()

    def insert_runs(self, repo_id: str, count: int) -> None:
        """Someone starts `count` runs now: they become the newest runs of the repo."""
        with self._lock:
            repo = self._by_id[repo_id]
            for _ in range(count):
                self._inserted += 1
                self._create(repo, inserted_run(self.seed, repo.spec, self._inserted, self._now))

    def runs(self, repo_id: str) -> list[SimRun]:
        """The repo's runs, newest first (highest run number first)."""
        with self._lock:
            return list(reversed(self._by_id[repo_id].runs))

    def last_run_created_at(self, repo_id: str) -> datetime | None:
        with self._lock:
            runs = self._by_id[repo_id].runs
            return runs[-1].plan.created_at if runs else None

    def run(self, repo_id: str, slug: str) -> SimRun | None:
        with self._lock:
            repo = self._by_id[repo_id]
            if not slug.isdigit():
                return None
            index = int(slug) - (repo.next_number - len(repo.runs))
            return repo.runs[index] if 0 <= index < len(repo.runs) else None

    def _make_repo(self, spec: RepoSpec) -> SimRepo:
        rng = random.Random(f"{self.seed}/{spec.org}/{spec.name}/numbers")
        repo_id = str(uuid.uuid5(_ID_NAMESPACE, f"{self.seed}/repo/{spec.org}/{spec.name}"))
        return SimRepo(spec, repo_id, next_number=rng.randint(200, 3000))

    def _plan(self, repo: SimRepo, runs: list[RunPlan]) -> None:
        for run in runs:
            bisect.insort(repo.pending, run, key=lambda r: (r.created_at, r.key))

    def _materialize(self) -> None:
        for repo in self._by_id.values():
            day = repo.planned_through + timedelta(days=1) if repo.planned_through else self.first_date
            while day <= self._now.date():
                self._plan(repo, day_runs(self.seed, repo.spec, day))
                repo.planned_through = day
                day += timedelta(days=1)
            while repo.pending and repo.pending[0].created_at <= self._now:
                self._create(repo, repo.pending.pop(0))

    def _create(self, repo: SimRepo, plan: RunPlan) -> None:
        repo.runs.append(SimRun(repo.spec, repo.id, repo.next_number, plan))
        repo.next_number += 1
