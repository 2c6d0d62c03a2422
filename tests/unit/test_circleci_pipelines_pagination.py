"""Token pagination: the edge cases by hand, then real pages from the simulator over HTTP."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from ciwatch_etl.simulator.circleci import Simulator
from ciwatch_etl.sources.circleci.pipelines import (
    CircleCIPipelinesClient,
    recent_pipelines,
)
from ciwatch_etl.sources.http import ApiError, RetryPolicy
from ciwatch_etl.sources.circleci.json_client import (
    PageError,
    PullResult,
    iter_pages,
    name_path,
    read_listing,
    slug_path,
    source_key,
)

FAST = RetryPolicy(attempts=2, backoff_seconds=0.01)


class FakeServer:
    """Answers page requests from a list of bodies (or exceptions), recording the tokens asked for."""

    def __init__(self, *bodies):
        self.bodies = list(bodies)
        self.tokens: list[str | None] = []

    def __call__(self, token):
        self.tokens.append(token)
        body = self.bodies[len(self.tokens) - 1]
        if isinstance(body, Exception):
            raise body
        return body


@pytest.mark.parametrize(
    "last_page",
    [
        {"items": [{"id": 3}], "next_page_token": None},  # the spec's null
        {"items": [{"id": 3}]},  # some live endpoints leave the key out
        {"items": [{"id": 3}], "next_page_token": ""},
        {"items": [], "next_page_token": "t2"},  # an empty page ends it, whatever the token says
    ],
    ids=["null", "absent", "empty-string", "empty-page"],
)
def test_paging_stops_at_the_last_page(last_page):
    server = FakeServer({"items": [{"id": 1}, {"id": 2}], "next_page_token": "t1"}, last_page)
    items = read_listing(iter_pages(server)).items
    assert [i["id"] for i in items] == [1, 2] + [3] * bool(last_page["items"])
    assert server.tokens == [None, "t1"]


def test_a_token_seen_before_ends_the_listing_instead_of_looping():
    server = FakeServer(
        {"items": [{"id": 1}], "next_page_token": "a"},
        {"items": [{"id": 2}], "next_page_token": "b"},
        {"items": [{"id": 3}], "next_page_token": "a"},
    )
    assert [i["id"] for i in read_listing(iter_pages(server)).items] == [1, 2, 3]
    assert server.tokens == [None, "a", "b"]


def test_a_failing_page_names_itself_and_the_listing_fails_whole():
    server = FakeServer({"items": [{"id": 1}], "next_page_token": "a"}, ApiError("GET x: HTTP 500: boom", 500))
    with pytest.raises(PageError) as raised:
        read_listing(iter_pages(server))
    assert (raised.value.page, raised.value.status) == (2, 500)
    result = PullResult()
    result.fail("gh/acme/api", "GET project/gh/acme/api/pipeline", raised.value)
    assert [(f.project, f.page, f.status, f.is_skip) for f in result.failures] == [("gh/acme/api", 2, 500, False)]


def test_a_body_without_items_is_a_failed_page():
    with pytest.raises(PageError, match="no `items` list") as raised:
        read_listing(iter_pages(FakeServer({"message": "odd"})))
    assert raised.value.page == 1 and raised.value.status is None


def test_pages_are_read_lazily():
    server = FakeServer({"items": [{"id": 1}], "next_page_token": "a"}, AssertionError("never asked"))
    first = next(iter_pages(server))
    assert first.number == 1 and server.tokens == [None]


def test_paths_and_quarantine_keys_are_safe():
    assert slug_path("gh/acme/api gateway") == "gh/acme/api%20gateway"
    assert name_path("e2e tests (chrome)/linux") == "e2e%20tests%20%28chrome%29%2Flinux"
    key = source_key("workflow_runs", "gh/acme/api", "build & test", "2025-07-01")
    assert "/" not in key and " " not in key and key.startswith("workflow_runs-gh_acme_api-build_test-2025-07-01-")
    assert key != source_key("workflow_runs", "gh/acme/api", "build + test", "2025-07-01")


def test_simulator_pipelines_page_by_token_and_stop_at_the_cutoff():
    with Simulator(end_date=date(2025, 7, 8), days=4) as sim:
        slug = "bb/globex-labs/payments-gateway"  # busy: several pages of 20 in four days
        with CircleCIPipelinesClient(sim.token, sim.circleci_api_url, policy=FAST) as client:
            listing = read_listing(client.pipelines(slug))
            every = listing.items
            sim.requests.clear()
            cutoff = datetime.fromisoformat(every[30]["created_at"]).astimezone(timezone.utc)
            recent = recent_pipelines(client, slug, cutoff, PullResult())
            assert recent is not None and recent.pages == 2
            asked = [r.query for r in sim.requests]
            workflows = read_listing(client.workflows(every[0]["id"]))

    assert listing.pages == -(-len(every) // 20) >= 3  # the last page said next_page_token: null
    assert len({p["id"] for p in every}) == len(every)
    created = [p["created_at"] for p in every]
    assert created == sorted(created, reverse=True)  # newest first
    # stopped on the page holding the first pipeline older than the cutoff (item 31: page 2)
    assert [p["id"] for p in recent.items] == [p["id"] for p in every[:31]]
    assert len(asked) == 2 and asked[0] == "" and asked[1].startswith("page-token=")
    assert workflows.pages == 1 and workflows.items  # one page, no next_page_token key at all
    assert every[-1]["created_at"].startswith("2025-07-05")  # paged through to the world's first day
