"""The gocdnext simulator speaks the wire shapes of the Go handlers (refs/gocdnext/API_SHAPES.md)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from ciwatch_etl.simulator.gocdnext import GocdnextSimulator

NOW = datetime(2026, 5, 12, 15, 30, tzinfo=UTC)  # a Tuesday afternoon
RFC3339_NANO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$")
RUN_STATUSES = {"queued", "running", "success", "failed", "canceled", "skipped", "waiting"}
CAUSES = {"webhook", "pull_request", "tag", "upstream", "manual", "schedule", "poll"}


@pytest.fixture(scope="module")
def sim() -> Iterator[GocdnextSimulator]:
    with GocdnextSimulator(now=NOW, days=10) as simulator:
        yield simulator


@pytest.fixture(scope="module")
def api(sim: GocdnextSimulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sim.url + "/api/v1", headers={"Authorization": f"Bearer {sim.token}"}) as client:
        yield client


def all_runs(api: httpx.Client) -> list[dict]:
    runs, offset = [], 0
    while True:
        page = api.get("/runs", params={"limit": 200, "offset": offset}).json()
        runs += page["runs"]
        offset += len(page["runs"])
        if not page["runs"] or offset >= page["total"]:
            return runs


def test_runs_envelope_defaults_order_and_clamp(api: httpx.Client, sim: GocdnextSimulator):
    page = api.get("/runs").json()
    assert set(page) == {"runs", "total", "limit", "offset"}
    assert (page["limit"], page["offset"], len(page["runs"])) == (20, 0, 20)
    assert page["total"] == len(sim.expected_run_ids())
    clamped = api.get("/runs", params={"limit": 500}).json()
    assert (clamped["limit"], len(clamped["runs"])) == (200, 200)
    created = [r["created_at"] for r in clamped["runs"]]
    assert created == sorted(created, reverse=True)
    beyond = api.get("/runs", params={"offset": page["total"] + 5}).json()
    assert beyond["runs"] == [] and beyond["total"] == page["total"]


@pytest.mark.parametrize("query", ["limit=0", "limit=-3", "limit=abc", "limit=1.5", "offset=-1", "offset=x"])
def test_bad_paging_queries_are_plain_text_400(api: httpx.Client, query: str):
    response = api.get(f"/runs?{query}")
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == f"invalid '{query.split('=')[0]}' query\n"


def test_run_summaries_follow_go_encoding(api: httpx.Client):
    runs = all_runs(api)
    assert {r["status"] for r in runs} == RUN_STATUSES
    assert {r["cause"] for r in runs} == CAUSES
    for run in runs:
        assert {"id", "pipeline_id", "pipeline_name", "counter", "cause", "status", "has_services",
                "service_names", "created_at", "project_id", "project_slug", "project_name"} <= set(run)
        assert RFC3339_NANO.match(run["created_at"])
        # omitempty: absent rather than null or empty
        assert all(value not in (None, "") for value in run.values())
        assert ("finished_at" in run) == (run["status"] in {"success", "failed", "canceled", "skipped"})
        if run["status"] == "queued":
            assert "started_at" not in run
    superseded = [r for r in runs if "superseded_by" in r]
    assert superseded and all(r["status"] == "canceled" and r["cancel_reason"].startswith("superseded by #")
                              for r in superseded)
    assert any(r.get("queue_reason", "").startswith("serial-busy:") for r in runs)
    assert any(re.search(r"\.\d{9}Z$", r["created_at"]) for r in runs)  # nanoseconds on the wire
    counters = [(r["pipeline_id"], r["counter"]) for r in runs]
    assert len(set(counters)) == len(counters)


def test_filters_by_status_cause_and_project(api: httpx.Client):
    for params, field, value in [({"status": "running"}, "status", "running"), ({"cause": "tag"}, "cause", "tag"),
                                 ({"project": "payments-api"}, "project_slug", "payments-api")]:
        page = api.get("/runs", params={**params, "limit": 200}).json()
        assert page["total"] >= 1 and len(page["runs"]) == page["total"]
        assert {r[field] for r in page["runs"]} == {value}
    assert api.get("/runs", params={"status": "nonsense"}).json() == {"runs": [], "total": 0, "limit": 20, "offset": 0}


def test_run_detail_has_stages_jobs_attempts_and_revisions(api: httpx.Client, sim: GocdnextSimulator):
    runs = all_runs(api)
    details = [api.get(f"/runs/{r['id']}", params={"logs": 0}).json() for r in runs]
    jobs = [job for d in details for stage in d["stages"] for job in stage["jobs"]]
    assert {"success", "failed", "canceled", "skipped", "queued", "running", "awaiting_approval"} <= {
        j["status"] for j in jobs}
    assert all("attempt" in j and "logs" not in j for j in jobs)
    assert any(j["attempt"] > 0 for j in jobs)
    assert all(("exit_code" in j) <= (j["status"] in {"success", "failed"}) for j in jobs)
    assert {j["name"] for j in jobs} >= {"deploy-staging", "deploy-production"}
    gated = [j for j in jobs if j.get("approval_gate")]
    assert gated and {j.get("decision") for j in gated} >= {"approved", "rejected", None}
    for detail in details:
        assert "project_id" not in detail and detail["check_reporting_mode"] in {"both", "check_run", "commit_status"}
        for material_id, revision in detail.get("revisions", {}).items():
            assert uuid.UUID(material_id) and revision["revision"]
        assert [s["ordinal"] for s in detail["stages"]] == list(range(len(detail["stages"])))
    assert details[0] == sim.run_json(details[0]["id"])


def test_logs_are_included_unless_disabled(api: httpx.Client, sim: GocdnextSimulator):
    finished = next(r for r in all_runs(api) if r["status"] == "success")
    with_logs = api.get(f"/runs/{finished['id']}").json()
    lines = with_logs["stages"][0]["jobs"][0]["logs"]
    assert lines and {"seq", "stream", "at", "text"} == set(lines[0])
    assert api.get(f"/runs/{finished['id']}", params={"logs": "x"}).text == "invalid 'logs' query\n"


def test_detail_errors_and_auth_are_plain_text(api: httpx.Client, sim: GocdnextSimulator):
    assert (api.get("/runs/not-a-uuid").status_code, api.get("/runs/not-a-uuid").text) == (400, "invalid id\n")
    missing = api.get(f"/runs/{uuid.uuid4()}")
    assert (missing.status_code, missing.text) == (404, "run not found\n")
    assert api.get("/nothing-here").text == "404 page not found\n"
    for headers in ({}, {"Authorization": "Bearer gcn_wrong"}, {"Authorization": sim.token}):
        denied = httpx.get(sim.url + "/api/v1/runs", headers=headers)
        assert (denied.status_code, denied.text) == (401, "unauthorized\n")


def test_projects_list_is_not_paginated(api: httpx.Client, sim: GocdnextSimulator):
    body = api.get("/projects").json()
    assert list(body) == ["projects"]
    projects = body["projects"]
    assert len(projects) == 5 and sum(p["run_count"] for p in projects) == len(sim.expected_run_ids())
    assert all(p["labels"] == [] and RFC3339_NANO.match(p["created_at"]) for p in projects)
    assert {p["status"] for p in projects} <= {"no_pipelines", "never_run", "running", "failing", "success"}


def test_same_seed_same_world_and_advance_finishes_open_runs():
    with GocdnextSimulator(now=NOW, days=3) as one, GocdnextSimulator(now=NOW, days=3) as two:
        assert one.expected_statuses() == two.expected_statuses()
        before = one.expected_statuses()
        open_runs = [run_id for run_id, status in before.items() if status in {"queued", "running", "waiting"}]
        assert {"queued", "running", "waiting"} <= set(before.values())
        one.advance(1)
        after = one.expected_statuses()
        assert set(before) < set(after)  # a day of new runs, none lost
        assert all(after[run_id] in {"success", "failed", "canceled"} for run_id in open_runs)
        assert {k: v for k, v in after.items() if k in before and before[k] not in {"queued", "running", "waiting"}} \
            == {k: v for k, v in before.items() if v not in {"queued", "running", "waiting"}}


def test_runs_inserted_while_paging_shift_later_pages():
    with GocdnextSimulator(now=NOW, days=2) as fresh, httpx.Client(
        base_url=fresh.url + "/api/v1", headers={"Authorization": f"Bearer {fresh.token}"}
    ) as api:
        first = api.get("/runs", params={"limit": 10}).json()
        fresh.faults.insert_runs_while_paging(times=1, runs_per_page=3)
        second = api.get("/runs", params={"limit": 10, "offset": 10}).json()
        assert second["total"] == first["total"] + 3
        assert [r["id"] for r in second["runs"][:3]] == [r["id"] for r in first["runs"][-3:]]
