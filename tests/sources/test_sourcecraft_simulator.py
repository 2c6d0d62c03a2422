"""The SourceCraft simulator over real HTTP: the spec's shapes, auth, errors, pages, its clock."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from ciwatch_etl.simulator.sourcecraft import SourceCraftSimulator

NOW = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)
RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.(\d{3}|\d{6}|\d{9}))?Z")
STATUSES = {"created", "prepared", "processing", "success", "failed", "canceled", "timeout"}


@pytest.fixture(scope="module")
def sim():
    with SourceCraftSimulator(now=NOW, days=20) as simulator:
        yield simulator


def get(sim: SourceCraftSimulator, path: str, token: str | None = "default", **params: Any) -> httpx.Response:
    headers = {} if token is None else {"Authorization": f"Bearer {sim.token if token == 'default' else token}"}
    return httpx.get(f"{sim.api_url}{path}", headers=headers, params=params)


def runs_path(repo_id: str) -> str:
    return f"/repos/id:{repo_id}/cicd/runs"


def walk(value: Any, path: str = "") -> list[tuple[str, Any]]:
    """Every (path, value) in a JSON document."""
    if isinstance(value, dict):
        return [(path, value)] + [item for k, v in value.items() for item in walk(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [(path, value)] + [item for i, v in enumerate(value) for item in walk(v, f"{path}[{i}]")]
    return [(path, value)]


def test_runs_follow_the_spec_shapes_in_protobuf_json_style(sim):
    for repo_id in sim.repo_ids:
        for run in sim.expected_runs(repo_id):
            for path, value in walk(run):
                assert value not in (None, "", [], {}), f"{path} should be omitted, not {value!r}"
                if path.endswith("_at"):
                    assert RFC3339.fullmatch(value), (path, value)
            assert set(run) <= {"id", "slug", "dates", "status", "workflows", "event_type", "error_messages",
                                "pull", "user"}
            assert run["status"] in STATUSES and run["slug"].isdigit()
            assert ("pull" in run) == (run["event_type"] == "pr_update")
            if run["status"] == "created":
                assert "workflows" not in run
            for workflow in run.get("workflows", []):
                assert workflow["status"] in STATUSES - {"prepared"}  # `prepared` only appears on a Run
                assert set(workflow) <= {"id", "slug", "description", "dates", "status", "tasks", "progress"}


def test_ids_are_omitted_except_where_a_repo_has_them(sim):
    with_ids = [bool(sim.expected_runs(r)[0].get("id")) for r in sim.repo_ids]
    assert with_ids == [False, False, True]


def test_world_is_realistic_around_now(sim):
    runs = [run for repo_id in sim.repo_ids for run in sim.expected_runs(repo_id)]
    assert {r["status"] for r in runs} == STATUSES
    assert {r["event_type"] for r in runs} == {"push", "pr_update", "manual", "restart"}
    deploys = [w for r in runs for w in r.get("workflows", []) if w["slug"] == "deploy"]
    assert deploys and all(r["event_type"] in ("push", "manual", "restart") for r in runs
                           if any(w["slug"] == "deploy" for w in r.get("workflows", [])))
    production = next(t for t in deploys[0]["tasks"] if t["slug"] == "deploy-production")
    assert production["relations"] == {"needs": [{"name": "deploy-staging"}]}
    failed = [r for r in runs if r["status"] in ("failed", "timeout")]
    assert failed and all(r["error_messages"] for r in failed)
    for run in runs:
        dates = run["dates"]
        if "finished_at" in dates:
            assert dates["created_at"] <= dates["started_at"] <= dates["finished_at"]


def test_list_is_newest_first_and_pages_end_without_a_token(sim):
    repo_id = sim.repo_ids[1]
    expected = [r["slug"] for r in sim.expected_runs(repo_id)]
    slugs, token, pages = [], None, 0
    while True:
        body = get(sim, runs_path(repo_id), page_size=40, **({"page_token": token} if token else {})).json()
        pages += 1
        slugs += [r["slug"] for r in body["runs"]]
        token = body.get("next_page_token")
        if token is None:
            break
    assert slugs == expected
    assert [int(s) for s in slugs] == sorted((int(s) for s in slugs), reverse=True)
    assert pages == -(-len(expected) // 40)


def test_page_size_zero_means_the_default_and_large_is_capped(sim):
    repo_id = sim.repo_ids[0]
    assert len(get(sim, runs_path(repo_id)).json()["runs"]) == 20
    assert len(get(sim, runs_path(repo_id), page_size=0).json()["runs"]) == 20
    assert len(get(sim, runs_path(repo_id), page_size=1000).json()["runs"]) == 100


def test_page_token_is_bound_to_the_request_that_produced_it(sim):
    repo_id = sim.repo_ids[0]
    token = get(sim, runs_path(repo_id), page_size=5).json()["next_page_token"]
    assert get(sim, runs_path(repo_id), page_size=5, page_token=token).status_code == 200
    for params in ({"page_size": 6, "page_token": token}, {"page_size": 5, "page_token": token[:-1] + "x"}):
        response = get(sim, runs_path(repo_id), **params)
        assert response.status_code == 400
        assert response.json()["error_code"] == "ValidationError"
    other = get(sim, runs_path(sim.repo_ids[1]), page_size=5, page_token=token)
    assert other.status_code == 400 and "does not match" in other.json()["message"]


@pytest.mark.parametrize(
    ("path", "token", "params", "status", "code"),
    [
        ("runs", None, {}, 401, "Unauthenticated"),
        ("runs", "not-the-token", {}, 401, "Unauthenticated"),
        ("forbidden", "default", {}, 403, "PermissionDenied"),
        ("unknown", "default", {}, 404, "NotFound"),
        ("run/999999", "default", {}, 404, "NotFound"),
        ("runs", "default", {"page_size": "-1"}, 400, "ValidationError"),
        ("runs", "default", {"page_size": "ten"}, 400, "ValidationError"),
    ],
)
def test_errors_use_the_api_error_envelope(sim, path, token, params, status, code):
    repo_id = {"forbidden": sim.forbidden_repo_id, "unknown": "no-such-repo"}.get(path, sim.repo_ids[0])
    url = runs_path(repo_id) + ("/999999" if path.startswith("run/") else "")
    response = get(sim, url, token=token, **params)
    assert response.status_code == status
    body = response.json()
    assert body["error_code"] == code and body["message"] and re.fullmatch(r"[0-9a-f]{32}", body["request_id"])
    if code == "PermissionDenied":
        assert body["details"] == {"permission": "src.repositories.listCI"}


def test_empty_repo_answers_an_empty_object(sim):
    assert get(sim, runs_path(sim.empty_repo_id)).json() == {}


def test_get_run_answers_what_the_list_shows(sim):
    repo_id = sim.repo_ids[2]
    listed = get(sim, runs_path(repo_id), page_size=3).json()["runs"]
    for run in listed:
        assert get(sim, f"{runs_path(repo_id)}/{run['slug']}").json() == run


def test_same_seed_and_clock_give_the_same_world():
    with SourceCraftSimulator(now=NOW, days=10) as a, SourceCraftSimulator(now=NOW, days=10) as b:
        assert a.repo_ids == b.repo_ids
        for repo_id in a.repo_ids:
            # Artifact download links name the server, and each simulator has its own port.
            assert (json.dumps(a.expected_runs(repo_id)).replace(a.api_url, "")
                    == json.dumps(b.expected_runs(repo_id)).replace(b.api_url, ""))


def test_advance_finishes_running_runs_and_creates_new_ones():
    with SourceCraftSimulator(now=NOW, days=10) as sim:
        repo_id = sim.repo_ids[0]
        before = {r["slug"]: r for r in sim.expected_runs(repo_id)}
        unfinished = [s for s, r in before.items() if r["status"] in ("created", "prepared", "processing")]
        assert len(unfinished) >= 3  # queued, waiting and running runs at "now", and one stuck for days

        sim.advance(1)

        after = {r["slug"]: r for r in sim.expected_runs(repo_id)}
        assert all(after[s]["status"] in ("success", "failed", "canceled", "timeout") for s in unfinished)
        assert all("finished_at" in after[s]["dates"] for s in unfinished)
        newer = set(after) - set(before)
        assert newer and min(int(s) for s in newer) > max(int(s) for s in before)
        assert sim.now == NOW.replace(day=21)
