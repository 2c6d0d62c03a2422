"""Insights' test endpoints: flaky tests of a project, and test metrics of a workflow.

Flaky tests come back as LIVE responses have them, snake_case (`flaky_tests`, `times_flaked`,
`total_flaky_tests`), not with the spec's kebab-case keys; the list is not paginated. A test
stays flaky until two weeks pass without a flake (the spec); `times_flaked` and `time_wasted`
(seconds of the failed job runs) count its flakes within the Insights window.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ciwatch_etl.simulator.circleci.entities import Job, Project, Workflow
from ciwatch_etl.simulator.circleci.insights_metrics import percentile
from ciwatch_etl.simulator.circleci.suite_results import (
    TestCase,
    durations,
    failed_tests,
    reports_tests,
    suite,
)
from ciwatch_etl.simulator.circleci.timeline import Timeline
from ciwatch_etl.simulator.circleci.wire import iso_ms

FLAKY_FOR = timedelta(days=14)  # "no longer considered flaky after 2 weeks have passed without a flake"
TEST_METRICS_RUNS = 10  # "calculated based on 10 most recent workflow runs"
TOP_TESTS = 10  # entries in most_failed_tests and slowest_tests

TestKey = tuple[str, str, str]  # job name, classname, test name


def _key(case: TestCase) -> TestKey:
    return case.job_name, case.classname, case.test_name


@dataclass
class _Flakes:
    instances: list[tuple[Job, Workflow]] = field(default_factory=list)  # failed job, its workflow


def flaky_tests(timeline: Timeline, seed: int, project: Project, since: datetime) -> dict[str, Any]:
    flakes: defaultdict[TestKey, _Flakes] = defaultdict(_Flakes)
    cases: dict[TestKey, TestCase] = {}
    now = timeline.now
    day = now.date()
    while day >= since.date():
        for rerun in timeline.workflows_created_on(project, day):
            if rerun.rerun_of is None or not timeline.is_finished(rerun) or rerun.created_at < since:
                continue
            original = next(w for w in rerun.pipeline.workflows if w.id == rerun.rerun_of)
            passed_again = {j.name for j in rerun.jobs if j.status == "success"}
            for job in original.jobs:
                if job.name not in passed_again:
                    continue
                for case in failed_tests(seed, job):
                    cases[_key(case)] = case
                    flakes[_key(case)].instances.append((job, original))
        day -= timedelta(days=1)

    items = []
    for key, found in flakes.items():
        job, workflow = max(found.instances, key=lambda pair: (pair[1].created_at, pair[0].number))
        if workflow.created_at < now - FLAKY_FOR:
            continue
        case = cases[key]
        items.append({
            "test_name": case.test_name,
            "classname": case.classname,
            "file": case.file,
            "source": case.source,
            "job_name": case.job_name,
            "job_number": job.number,
            "workflow_id": workflow.id,
            "workflow_name": workflow.name,
            "workflow_created_at": iso_ms(workflow.created_at),
            "pipeline_number": workflow.pipeline.number,
            "times_flaked": len(found.instances),
            "time_wasted": sum(j.run_seconds for j, _ in found.instances),
        })
    items.sort(key=lambda i: (-i["times_flaked"], i["job_name"], i["classname"], i["test_name"]))
    return {"flaky_tests": items, "total_flaky_tests": len(items)}


@dataclass
class _TestStats:
    case: TestCase
    total_runs: int = 0
    failed_runs: int = 0
    seconds: list[float] = field(default_factory=list)


def test_metrics(timeline: Timeline, seed: int, runs_newest_first: Iterable[Workflow],
                 flaky: set[TestKey]) -> dict[str, Any]:
    """From the most recent finished runs of one workflow (already scoped to a branch)."""
    finished = [w for w in runs_newest_first if timeline.is_finished(w)]
    stats: dict[TestKey, _TestStats] = {}
    test_runs = []
    for workflow in finished[:TEST_METRICS_RUNS]:
        counts: Counter[str] = Counter()
        for job in timeline.jobs(workflow):
            if not reports_tests(job):
                continue
            failed = {case.index for case in failed_tests(seed, job)}
            seconds = durations(seed, job)
            for case in suite(seed, workflow.pipeline.project, job.name):
                if case.skipped:
                    counts["skipped"] += 1
                    continue
                entry = stats.setdefault(_key(case), _TestStats(case))
                entry.total_runs += 1
                entry.seconds.append(seconds[case.index])
                if case.index in failed:
                    entry.failed_runs += 1
                    counts["failure"] += 1
                else:
                    counts["success"] += 1
        if counts:
            ran = counts["success"] + counts["failure"]
            test_runs.append({
                "pipeline_number": workflow.pipeline.number,
                "workflow_id": workflow.id,
                "success_rate": counts["success"] / ran if ran else 0.0,
                "test_counts": {"error": 0, "failure": counts["failure"], "skipped": counts["skipped"],
                                "success": counts["success"], "total": sum(counts.values())},
            })

    def entry_json(entry: _TestStats) -> dict[str, Any]:
        case = entry.case
        return {"failed_runs": entry.failed_runs, "job_name": case.job_name,
                "p95_duration": round(percentile(entry.seconds, 0.95), 3), "test_name": case.test_name,
                "file": case.file, "source": case.source, "classname": case.classname,
                "total_runs": entry.total_runs, "flaky": _key(case) in flaky}

    most_failed, most_failed_extra = _top([s for s in stats.values() if s.failed_runs],
                                          lambda s: s.failed_runs)
    slowest, slowest_extra = _top(list(stats.values()), lambda s: percentile(s.seconds, 0.95))
    total = sum(r["test_counts"]["total"] for r in test_runs)
    return {
        "average_test_count": total // len(test_runs) if test_runs else 0,
        "most_failed_tests": [entry_json(s) for s in most_failed],
        "most_failed_tests_extra": most_failed_extra,
        "slowest_tests": [entry_json(s) for s in slowest],
        "slowest_tests_extra": slowest_extra,
        "total_test_runs": total,
        "test_runs": test_runs,
    }


def _top(entries: list[_TestStats], measure) -> tuple[list[_TestStats], int]:
    """The TOP_TESTS highest entries, and how many more tie with the last one shown (the spec's
    `*_extra`: tests "with the same rate being omitted")."""
    ranked = sorted(entries, key=lambda s: (-measure(s), s.case.job_name, s.case.test_name))
    shown = ranked[:TOP_TESTS]
    if not shown:
        return [], 0
    last = measure(shown[-1])
    return shown, sum(1 for s in ranked[TOP_TESTS:] if measure(s) == last)
