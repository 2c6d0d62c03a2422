"""Draw one project's runs of one day, and plan any single run from its start to its end.

Every (project, day) has its own seeded `random.Random`, so a day never depends on another one
or on the world's current time: moving time forward reveals more of the same world.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from ciwatch_etl.simulator.gocdnext.catalog import (
    AUTHORS,
    BRANCH_TOPICS,
    DEFAULT_BRANCH,
    JobSpec,
    PipelineSpec,
)
from ciwatch_etl.simulator.gocdnext.plans import (
    Attempt,
    Gate,
    JobPlan,
    Pipeline,
    RunPlan,
    StagePlan,
    cancel_at,
)

WEEKDAY_PUSHES = 7.0  # mean pushes a weekday for a project of activity 1.0
WEEKEND_FACTOR = 0.15
MAIN_SHARE = 0.35  # pushes straight to main (merges), which deploy when green
FOLLOWUP_SHARE = 0.2  # pushes followed within minutes by another on the same branch
TAG_CHANCE = 0.15  # a release tag on a weekday
MANUAL_DEPLOY_CHANCE = 0.1
NIGHTLY_SKIP_CHANCE = 0.1  # nothing changed since last night: the scheduled run is skipped
APPROVAL_REJECT_SHARE = 0.12

Ids = Callable[[str], str]


def _sha(rng: random.Random) -> str:
    return f"{rng.getrandbits(160):040x}"


class RunPlanner:
    """Plans runs of one pipeline from a random source: queue, stages, attempts, approvals."""

    def __init__(self, rng: random.Random, ids: Ids, agents: tuple[str, ...]) -> None:
        self.rng = rng
        self.ids = ids
        self.agents = agents

    def plan(
        self,
        pipeline: Pipeline,
        spec: PipelineSpec,
        run_id: str,
        created_at: datetime,
        trigger: dict[str, Any],
        *,
        not_before: datetime | None = None,
        busy_reason: str | None = None,
        queue_seconds: float | None = None,
        skipped: bool = False,
    ) -> RunPlan:
        """`not_before`: a serial pipeline's previous run ends then; the run queues with `busy_reason`."""
        rng = self.rng
        if queue_seconds is None:
            queue_seconds = rng.uniform(120, 600) if rng.random() < 0.05 else rng.uniform(3, 60)
        start = created_at + timedelta(seconds=queue_seconds)
        queue_reason = None
        if not_before is not None and not_before > start:
            start = not_before + timedelta(seconds=rng.uniform(1, 5))
            queue_reason = busy_reason
        if skipped:
            return self._skipped(pipeline, spec, run_id, created_at, trigger)
        t, failed = start, False
        stages: list[list[JobPlan]] = []
        for ordinal, stage in enumerate(spec.stages):
            jobs: list[JobPlan] = []
            for job_spec in stage.jobs:
                for matrix_key in job_spec.matrix or (None,):
                    job_id = self.ids(f"{run_id}/stage/{ordinal}/job/{job_spec.name}/{matrix_key}")
                    if failed:
                        jobs.append(JobPlan(job_id, job_spec.name, matrix_key, job_spec.image, ()))
                    else:
                        jobs.append(self._job(job_id, job_spec, matrix_key, t))
            stages.append(jobs)
            if not failed:
                t = max(j.ends_at for j in jobs) + timedelta(seconds=rng.uniform(1, 4))
                failed = any(j.final_status == "failed" for j in jobs)
        finished = max(j.ends_at for jobs in stages for j in jobs if j.attempts or j.closed_at)
        planned = tuple(
            StagePlan(
                self.ids(f"{run_id}/stage/{ordinal}"),
                spec.stages[ordinal].name,
                ordinal,
                tuple(j if j.attempts or j.closed_at else _closed(j, finished, "skipped") for j in jobs),
            )
            for ordinal, jobs in enumerate(stages)
        )
        return RunPlan(
            id=run_id, pipeline=pipeline, created_at=created_at, stages=planned, started_at=start,
            finished_at=finished, status="failed" if failed else "success", queue_reason=queue_reason,
            **trigger,
        )

    def _skipped(self, pipeline: Pipeline, spec: PipelineSpec, run_id: str, created_at: datetime,
                 trigger: dict[str, Any]) -> RunPlan:
        finished = created_at + timedelta(seconds=self.rng.uniform(1, 3))
        stages = tuple(
            StagePlan(
                self.ids(f"{run_id}/stage/{ordinal}"),
                stage.name,
                ordinal,
                tuple(
                    _closed(JobPlan(self.ids(f"{run_id}/stage/{ordinal}/job/{job.name}/{key}"), job.name, key,
                                    job.image, ()), finished, "skipped")
                    for job in stage.jobs
                    for key in job.matrix or (None,)
                ),
            )
            for ordinal, stage in enumerate(spec.stages)
        )
        return RunPlan(id=run_id, pipeline=pipeline, created_at=created_at, stages=stages, started_at=None,
                       finished_at=finished, status="skipped", **trigger)

    def _job(self, job_id: str, spec: JobSpec, matrix_key: str | None, stage_start: datetime) -> JobPlan:
        rng = self.rng
        start = stage_start + timedelta(seconds=rng.uniform(1, 15))
        gate = None
        if spec.gate is not None:
            wait = timedelta(seconds=rng.uniform(300, 6 * 3600))
            rejected = rng.random() < APPROVAL_REJECT_SHARE
            gate = Gate(
                approvers=spec.gate.approvers, required=spec.gate.required, description=spec.gate.description,
                awaiting_since=stage_start, decided_at=stage_start + wait,
                decision="rejected" if rejected else "approved", decided_by=rng.choice(spec.gate.approvers),
            )
            if rejected:
                return JobPlan(job_id, spec.name, matrix_key, spec.image, (), gate=gate, closed_at=gate.decided_at,
                               closed_status="failed", closed_error=f"approval rejected by {gate.decided_by}")
            start = stage_start + wait + timedelta(seconds=rng.uniform(1, 5))
        attempts: list[Attempt] = []
        for attempt in range(spec.retries + 1):
            end = start + timedelta(seconds=rng.uniform(*spec.minutes) * 60)
            failed = rng.random() < spec.failure_rate
            exit_code = rng.choice((1, 1, 1, 2, 137)) if failed else 0
            attempts.append(Attempt(
                start, end, "failed" if failed else "success", exit_code, rng.choice(self.agents),
                f"exit status {exit_code}" if failed else None,
            ))
            if not failed:
                break
            start = end + timedelta(seconds=rng.uniform(1, 5))
        return JobPlan(job_id, spec.name, matrix_key, spec.image, tuple(attempts), gate=gate)


def _closed(job: JobPlan, at: datetime, status: str) -> JobPlan:
    return JobPlan(job.id, job.name, job.matrix_key, job.image, (), closed_at=at, closed_status=status)


class DayGenerator:
    """All runs one project created on one day (plus deploys its evening builds trigger after midnight)."""

    def __init__(self, seed: int, project_index: int, pipelines: dict[str, tuple[Pipeline, PipelineSpec]],
                 activity: float, day: date, ids: Ids, agents: tuple[str, ...]) -> None:
        self.rng = random.Random(f"{seed}/gocdnext/{project_index}/{day.isoformat()}")
        self.pipelines = pipelines
        self.activity = activity
        self.day = day
        self.ids = ids
        self.planner = RunPlanner(self.rng, ids, agents)
        self._seq = 0
        self.project = next(iter(pipelines.values()))[0].project

    def build(self) -> list[RunPlan]:
        runs = self._builds()
        if "deploy" in self.pipelines:
            runs += self._deploys([r for r in runs if self._branch(r) == DEFAULT_BRANCH and r.status == "success"])
        if "nightly" in self.pipelines:
            runs.append(self._nightly())
        return runs

    # -- helpers -------------------------------------------------------------------------------

    def _next_id(self) -> str:
        self._seq += 1
        return self.ids(f"{self.project.slug}/{self.day.isoformat()}/run/{self._seq}")

    def _at(self, hour_mean: float, hour_sd: float) -> datetime:
        hours = min(max(self.rng.gauss(hour_mean, hour_sd), 0.0), 23.99)
        return datetime.combine(self.day, time(), UTC) + timedelta(hours=hours)

    def _branch(self, run: RunPlan) -> str | None:
        return (run.revisions or {}).get(self.project.git_material_id, {}).get("branch")

    def _git(self, branch: str | None, sha: str, author: str, message: str, tag: str | None = None) -> dict:
        entry = {"revision": sha, "author": author, "message": message}
        if branch:
            entry["branch"] = branch
        if tag:
            entry["tag"] = tag
        return {self.project.git_material_id: entry}

    # -- pipelines -----------------------------------------------------------------------------

    def _builds(self) -> list[RunPlan]:
        pipeline, spec = self.pipelines["build"]
        rng = self.rng
        mean = WEEKDAY_PUSHES * self.activity * (WEEKEND_FACTOR if self.day.weekday() >= 5 else 1.0)
        pushes = max(0, round(rng.gauss(mean, mean ** 0.5)))
        runs: list[RunPlan] = []
        for _ in range(pushes):
            branch = (DEFAULT_BRANCH if rng.random() < MAIN_SHARE
                      else f"feature/{rng.choice(BRANCH_TOPICS)}-{rng.randint(1, 400)}")
            created = self._at(13.0, 3.0)
            pr_number = rng.randint(100, 2400)
            chain = [created]
            if rng.random() < FOLLOWUP_SHARE:
                chain.append(created + timedelta(seconds=rng.uniform(120, 900)))
            earlier: RunPlan | None = None
            for moment in chain:
                run = self._build_run(pipeline, spec, moment, branch, pr_number)
                if earlier is not None:
                    cancel_at(earlier, moment, by=run)
                runs.append(run)
                earlier = run
        return runs

    def _build_run(self, pipeline: Pipeline, spec: PipelineSpec, created: datetime, branch: str,
                   pr_number: int) -> RunPlan:
        rng = self.rng
        author, sha = rng.choice(AUTHORS), _sha(rng)
        message = f"{rng.choice(('fix', 'feat', 'chore', 'refactor'))}: {rng.choice(BRANCH_TOPICS)}"
        if branch == DEFAULT_BRANCH:
            cause = "webhook" if rng.random() < 0.85 else "poll"
        else:
            cause = "pull_request" if rng.random() < 0.65 else "webhook"
        detail: dict[str, Any] | None
        if cause == "webhook":
            detail = {"event": "push", "ref": f"refs/heads/{branch}", "pusher": author}
        elif cause == "pull_request":
            detail = {"event": "pull_request", "action": "synchronize", "pr_number": pr_number,
                      "pr_title": message, "pr_author": author, "base_branch": DEFAULT_BRANCH}
        else:
            detail = None
        return self.planner.plan(pipeline, spec, self._next_id(), created, {
            "cause": cause, "cause_detail": detail, "revisions": self._git(branch, sha, author, message),
            "triggered_by": "system" if cause == "poll" else author,
        })

    def _deploys(self, green_main_builds: list[RunPlan]) -> list[RunPlan]:
        pipeline, spec = self.pipelines["deploy"]
        rng = self.rng
        wanted: list[tuple[datetime, dict[str, Any]]] = []
        for build in green_main_builds:
            git = build.revisions or {}
            wanted.append((build.finished_at + timedelta(seconds=rng.uniform(2, 10)), {
                "cause": "upstream",
                "cause_detail": {"upstream_run_id": build.id, "upstream_pipeline": "build"},
                "revisions": {self.project.upstream_material_id: {"revision": build.id}, **git},
                "triggered_by": "system",
            }))
        weekday = self.day.weekday() < 5
        if weekday and rng.random() < TAG_CHANCE:
            author, tag = rng.choice(AUTHORS), f"v1.{rng.randint(0, 60)}.{rng.randint(0, 9)}"
            wanted.append((self._at(15.0, 2.0), {
                "cause": "tag", "cause_detail": {"event": "tag", "tag": tag},
                "revisions": self._git(None, _sha(rng), author, f"release {tag}", tag=tag), "triggered_by": author,
            }))
        if weekday and rng.random() < MANUAL_DEPLOY_CHANCE:
            author = rng.choice(AUTHORS)
            wanted.append((self._at(11.0, 2.0), {
                "cause": "manual", "cause_detail": {"triggered_by": author, "note": "redeploy"},
                "revisions": self._git(DEFAULT_BRANCH, _sha(rng), author, "redeploy"), "triggered_by": author,
            }))
        runs: list[RunPlan] = []
        # Serial: a deploy created while the previous one runs waits for it.
        for created, trigger in sorted(wanted, key=lambda w: w[0]):
            previous = runs[-1] if runs else None
            runs.append(self.planner.plan(
                pipeline, spec, self._next_id(), created, trigger,
                not_before=None if previous is None else previous.finished_at,
                busy_reason=None if previous is None else f"serial-busy:{previous.id}",
            ))
        return runs

    def _nightly(self) -> RunPlan:
        pipeline, spec = self.pipelines["nightly"]
        rng = self.rng
        created = datetime.combine(self.day, time(2, 0), UTC) + timedelta(seconds=rng.uniform(0.2, 3))
        skip_chance = 0.5 if self.day.weekday() >= 5 else NIGHTLY_SKIP_CHANCE
        return self.planner.plan(pipeline, spec, self._next_id(), created, {
            "cause": "schedule", "cause_detail": {"cron": "0 2 * * *"},
            "revisions": self._git(DEFAULT_BRANCH, _sha(rng), rng.choice(AUTHORS), "nightly"), "triggered_by": "system",
        }, skipped=rng.random() < skip_chance)
