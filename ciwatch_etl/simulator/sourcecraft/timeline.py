"""Which runs a repo gets and when: per day from a seeded generator, plus a few fixed ones.

A day's runs depend only on (seed, repo, day), so history is the same whenever it is asked for.
Pushes to main run `ci` and `deploy`; branch pushes and pull request updates run `ci`; manual
runs mostly redeploy. Failed and timed-out runs are often restarted (`restart`) minutes later.
Relative to the simulator's starting "now", every repo also has runs that are still queued
(`created`, `prepared`) or running (`processing`), and the first repo has one run that has waited
days for a runner: the kind an incremental pull must go back for.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from ciwatch_etl.simulator.sourcecraft.config import (
    CI,
    DEPLOY,
    USERS,
    RepoSpec,
    WorkflowSpec,
)
from ciwatch_etl.simulator.sourcecraft.plan import (
    RunPlan,
    cancel_at,
    pick_failure,
    schedule,
)

WEEKDAY_RUNS = 12.0  # mean runs on a weekday for a repo of activity 1.0
WEEKEND_FACTOR = 0.2
HOUR_WEIGHTS = (0.2,) * 7 + (1.0,) * 3 + (2.0,) * 8 + (1.0,) * 4 + (0.4,) * 2
OUTCOMES = (("success", 0.78), ("failed", 0.14), ("canceled", 0.05), ("timeout", 0.03))
RESTART_SHARE = 0.6  # failed or timed-out runs that someone restarts

# event type, workflows it runs, weight
EVENTS: tuple[tuple[str, tuple[WorkflowSpec, ...], float], ...] = (
    ("push", (CI, DEPLOY), 0.3),  # to main
    ("push", (CI,), 0.3),  # to a feature branch
    ("pr_update", (CI,), 0.35),
    ("manual", (DEPLOY,), 0.05),
)


def day_runs(seed: int, repo: RepoSpec, day: date) -> list[RunPlan]:
    """The runs created on `day` (UTC) and their restarts (which may fall on the next day)."""
    rng = random.Random(f"{seed}/{repo.name}/{day.isoformat()}")
    mean = WEEKDAY_RUNS * repo.activity * (WEEKEND_FACTOR if day.weekday() >= 5 else 1.0)
    count = max(0, round(rng.gauss(mean, mean**0.5))) if mean else 0
    midnight = datetime.combine(day, time())
    moments = sorted(
        midnight + timedelta(hours=rng.choices(range(24), HOUR_WEIGHTS)[0], milliseconds=rng.randrange(3_600_000))
        for _ in range(count)
    )
    runs = []
    for n, created_at in enumerate(moments):
        event, workflows, _ = rng.choices(EVENTS, [w for *_, w in EVENTS])[0]
        outcome = rng.choices([o for o, _ in OUTCOMES], [w for _, w in OUTCOMES])[0]
        key = f"{repo.name}/{day.isoformat()}/{n}"
        run = build_run(random.Random(f"{seed}/{key}"), key, repo, created_at, event, workflows, outcome)
        runs.append(run)
        if outcome in ("failed", "timeout") and rng.random() < RESTART_SHARE:
            restarted = run.finished_at + timedelta(seconds=rng.uniform(120, 1500))
            again = rng.choices(["success", "failed"], [0.85, 0.15])[0]
            runs.append(build_run(random.Random(f"{seed}/{key}/restart"), f"{key}/restart", repo, restarted,
                                  "restart", workflows, again, user=run.user))
    return runs


def live_runs(seed: int, repo: RepoSpec, now: datetime) -> list[RunPlan]:
    """Runs still queued or running at `now`: one `created`, one `prepared`, one `processing`."""
    rng = random.Random(f"{seed}/{repo.name}/live")
    return [
        build_run(rng, f"{repo.name}/live/created", repo, now - timedelta(seconds=20), "push", (CI,), "success",
                  prepare_seconds=120),
        build_run(rng, f"{repo.name}/live/prepared", repo, now - timedelta(minutes=4), "pr_update", (CI,),
                  "success", queue_seconds=600),
        build_run(rng, f"{repo.name}/live/processing", repo, now - timedelta(minutes=9), "push", (CI, DEPLOY),
                  "success", queue_seconds=30, speed=3.0),
    ]


def stuck_run(seed: int, repo: RepoSpec, now: datetime) -> RunPlan:
    """A manual deploy that has waited five days for a self-hosted runner; it runs half a day later."""
    created_at = now - timedelta(days=5, minutes=17)
    return build_run(random.Random(f"{seed}/{repo.name}/stuck"), f"{repo.name}/stuck", repo, created_at, "manual",
                     (DEPLOY,), "success", queue_seconds=(timedelta(days=5, hours=12)).total_seconds())


def inserted_run(seed: int, repo: RepoSpec, number: int, now: datetime) -> RunPlan:
    """A manual run someone starts right now (the fault that shifts pages while a client pages)."""
    key = f"{repo.name}/inserted/{number}"
    return build_run(random.Random(f"{seed}/{key}"), key, repo, now, "manual", (CI,), "success")


def build_run(
    rng: random.Random,
    key: str,
    repo: RepoSpec,
    created_at: datetime,
    event: str,
    workflows: tuple[WorkflowSpec, ...],
    outcome: str,
    *,
    user: str | None = None,
    prepare_seconds: float | None = None,
    queue_seconds: float | None = None,
    speed: float = 1.0,
) -> RunPlan:
    prepared_at = created_at + timedelta(seconds=prepare_seconds or rng.uniform(2, 8))
    if queue_seconds is None:
        queue_seconds = rng.uniform(180, 600) if rng.random() < 0.05 else rng.lognormvariate(3, 0.6)
    start = prepared_at + timedelta(seconds=queue_seconds)
    failure = pick_failure(rng, workflows, outcome) if outcome in ("failed", "timeout") else None
    planned = schedule(rng, workflows, prepared_at, start, repo.speed * speed, failure)
    if outcome == "canceled":
        # Canceled part-way, e.g. superseded by a newer push.
        end = max(c.settled_at for w in planned for t in w.tasks for c in t.cubes)
        planned = cancel_at(planned, start + (end - start) * rng.uniform(0.1, 0.9))
    messages = ()
    if failure is not None:
        what = f"cube {failure.cube} of task {failure.task} in workflow {failure.workflow}"
        messages = (f"{what} exceeded its 30m0s timeout",) if failure.status == "timeout" else (
            f"{what} failed: exit status 1",)
    return RunPlan(
        key=key,
        created_at=created_at,
        prepared_at=prepared_at,
        event_type=event,
        user=user or rng.choice(USERS),
        pull_number=rng.randint(100, 999) if event == "pr_update" else None,
        workflows=planned,
        error_messages=messages,
    )
