"""Turning gocdnext payloads into raw rows: revisions, durations, typing, unreadable values, projects."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from ciwatch_etl.schemas.gocdnext import JOB_COLUMNS, JOBS_SCHEMA, RUN_COLUMNS
from ciwatch_etl.schemas.gocdnext_rows import Problems, frame, revision_and_branch, run_rows
from ciwatch_etl.schemas.gocdnext_projects import PROJECTS
from ciwatch_etl.schemas.validation import split_by_schema
from ciwatch_etl.simulator.gocdnext.view import go_time

GIT = "7fcb3eb9-11df-5eae-8341-9cbfe0654935"
UPSTREAM = "0a4386ce-e24e-5940-998b-009d0a67b763"
SHA = "af97a8bf379590496c110d761aec86cee137d1da"
RUN_ID = "088aff30-fc42-56c0-bbe7-049c784a3525"


@pytest.mark.parametrize(
    ("revisions", "expected"),
    [
        ({GIT: {"revision": SHA, "branch": "main"}}, (SHA, "main")),
        # upstream materials carry the upstream run's id: never taken for the commit
        ({"00000000-aaaa-4aaa-8aaa-000000000000": {"revision": RUN_ID}, GIT: {"revision": SHA, "branch": "main"}},
         (SHA, "main")),
        ({UPSTREAM: {"revision": RUN_ID}}, (None, None)),
        ({GIT: {"revision": SHA, "tag": "v1.2.0"}}, (SHA, None)),  # tag runs: a commit, no branch
        ({}, (None, None)),
        (None, (None, None)),
    ],
)
def test_revision_and_branch(revisions, expected):
    assert revision_and_branch(revisions) == expected


def detail(**overrides) -> dict:
    job = {"id": "j1", "stage_run_id": "s1", "name": "unit-tests", "matrix_key": "OS=linux,ARCH=amd64",
           "image": "golang:1.24", "status": "success", "exit_code": 0, "started_at": "2026-04-28T12:01:00Z",
           "finished_at": "2026-04-28T12:03:30.5Z", "agent_id": "a1", "attempt": 1}
    gate = {"id": "j2", "stage_run_id": "s1", "name": "deploy-production", "status": "awaiting_approval",
            "attempt": 0, "approval_gate": True, "approvers": ["alice"], "approval_required": 1,
            "awaiting_since": "2026-04-28T12:04:00Z"}
    return {
        "id": RUN_ID, "pipeline_id": "p1", "pipeline_name": "build", "counter": 42, "cause": "webhook",
        "status": "running", "has_services": True, "service_names": ["postgres", "redis"],
        "created_at": "2026-04-28T11:59:59.999999999Z", "started_at": "2026-04-28T12:00:30.000000001Z",
        "triggered_by": "alice", "project_slug": "storefront", "check_reporting_mode": "both",
        "cause_detail": {"pusher": "alice", "event": "push"},
        "revisions": {GIT: {"revision": SHA, "branch": "main"}},
        "stages": [{"id": "s1", "name": "test", "ordinal": 1, "status": "running",
                    "started_at": "2026-04-28T12:01:00Z", "jobs": [job, gate]}],
        **overrides,
    }


def test_run_rows_type_and_compute():
    problems = Problems()
    run, stages, jobs = run_rows(detail(), {"id": "proj-1", "name": "Storefront"}, "ci.example.com", problems)
    assert problems == []
    assert (run["created_date"], run["created_at"]) == (date(2026, 4, 28), datetime(2026, 4, 28, 11, 59, 59, 999999))
    assert run["queue_seconds"] == 30.000001 and run["duration_seconds"] is None  # still running
    assert (run["project_id"], run["project_name"], run["branch"], run["revision"]) == (
        "proj-1", "Storefront", "main", SHA)
    assert run["cause_detail"] == '{"event":"push","pusher":"alice"}'  # keys sorted: stable row hash
    assert (run["service_names"], run["stage_count"], run["job_count"]) == ("postgres,redis", 1, 2)
    assert stages[0]["run_created_date"] == date(2026, 4, 28) and stages[0]["finished_at"] is None
    unit, gate = jobs
    assert (unit["exit_code"], unit["attempt"], unit["duration_seconds"]) == (0, 1, 150.5)
    assert (gate["is_approval_gate"], gate["awaiting_since"], gate["exit_code"]) == (
        True, datetime(2026, 4, 28, 12, 4), None)
    typed = frame(RUN_COLUMNS, [run])
    assert typed.columns == [name for name, _ in RUN_COLUMNS] and typed.height == 1


def test_unreadable_values_become_null_and_are_reported():
    problems = Problems()
    bad = detail(started_at="yesterday", counter="forty-two")
    run, _, jobs = run_rows(bad, None, "ci.example.com", problems)
    assert problems == [f"run {RUN_ID} started_at: unreadable time 'yesterday'"]
    assert run["started_at"] is None and run["project_id"] is None
    typed = frame(RUN_COLUMNS, [run])
    assert typed.get_column("counter").to_list() == [None]  # wrong JSON type: null, then quarantined


def test_job_rules_quarantine_negative_durations_and_attempts():
    _, _, jobs = run_rows(detail(), None, "h", Problems())
    jobs[0]["duration_seconds"] = -1.0
    jobs[1]["attempt"] = -1
    checked = split_by_schema(JOBS_SCHEMA, frame(JOB_COLUMNS, jobs))
    assert checked.valid.height == 0
    reasons = checked.rejected.get_column("_reason").to_list()
    assert "duration_seconds" in reasons[0] and "attempt" in reasons[1]


def test_a_project_detail_is_a_row_with_its_default_branch_and_the_servers_name():
    detail = {"project": {"id": "p", "slug": "shop", "name": "Shop", "created_at": "2025-01-02T03:04:05.123456789Z",
                          "updated_at": "2025-01-03T00:00:00Z", "pipeline_count": 3, "run_count": 10,
                          "status": "success", "labels": []},
              "scm_source": {"id": "s", "provider": "github", "url": "https://github.com/acme/shop",
                             "default_branch": "master"},
              "pipelines": [], "runs": []}
    unbound = {"project": {"id": "q", "slug": "notes", "name": "Notes", "created_at": "2025-01-02T00:00:00Z"},
               "pipelines": [], "runs": []}
    server = {"server_host": "10.0.0.5", "server_name": "ci-east"}
    rows = PROJECTS.frame_of([(detail, server), (unbound, server)]).rows(named=True)
    assert [(r["project_id"], r["slug"], r["server_name"], r["default_branch"], r["scm_provider"]) for r in rows] == [
        ("p", "shop", "ci-east", "master", "github"), ("q", "notes", "ci-east", None, None)]
    assert rows[0]["created_at"] == datetime(2025, 1, 2, 3, 4, 5, 123456) and rows[0]["_parse_errors"] is None


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (datetime(2026, 4, 28, 12, 34, 56, 123456, tzinfo=UTC), "2026-04-28T12:34:56.12345692Z"),
        (datetime(2026, 4, 28, 12, 34, 0, tzinfo=UTC), "2026-04-28T12:34:00Z"),
        (datetime(2026, 4, 28, 12, 34, 56, 500000, tzinfo=UTC), "2026-04-28T12:34:56.500000728Z"),
    ],
)
def test_simulator_times_look_like_go_rfc3339nano(moment: datetime, text: str):
    assert go_time(moment) == text
