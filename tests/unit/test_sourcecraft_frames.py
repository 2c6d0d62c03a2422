"""Runs flattened into the four tables, batched by repo and day, and bad rows quarantined."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import duckdb

from ciwatch_etl.assets.sourcecraft import batches_by_table
from ciwatch_etl.landing.records import land_batches
from ciwatch_etl.schemas.sourcecraft import SCHEMAS, SOURCECRAFT_RUNS, frames
from ciwatch_etl.sources.sourcecraft.client import RepoPull
from ciwatch_etl.sources.sourcecraft.records import parse_run

EXTRACTED = datetime(2026, 11, 21, 2, 0)


def run(slug: str, created: str | None, **extra) -> dict:
    dates = {"created_at": created, "started_at": "2026-11-20T10:00:30Z", "finished_at": "2026-11-20T10:05:30Z"}
    return {"slug": slug, "status": "success", "event_type": "push",
            "dates": {k: v for k, v in dates.items() if v}, **extra}


def parsed(raw: dict, page: int | None = 1):
    source = "GET /repos/id:r1/cicd/runs" + (f" page {page}" if page else f"/{raw['slug']}")
    return parse_run(raw, "r1", source, page, EXTRACTED)


def test_nested_levels_become_rows_with_parent_keys_and_durations():
    workflow = {"slug": "deploy", "status": "failed", "dates": {"created_at": "2026-11-20T10:00:05Z"}, "tasks": [
        {"slug": "deploy-production", "status": "canceled", "relations": {"needs": [{"name": "deploy-staging"}]},
         "cubes": [{"slug": "smoke-test", "status": "canceled", "artifacts": [{"local_path": "report.txt"}],
                    "dates": {"created_at": "2026-11-20T10:00:05Z", "finished_at": "2026-11-20T10:04:00Z"}}]}]}
    tables = frames([parsed(run("7", "2026-11-20T10:00:00Z", workflows=[workflow], error_messages=["boom"]))])

    runs = tables["sourcecraft_runs"].to_dicts()
    assert [(r["run_slug"], r["run_number"], r["created_date"], r["duration_seconds"], r["queue_seconds"],
             json.loads(r["error_messages"]), r["workflow_count"]) for r in runs] == [
        ("7", 7, date(2026, 11, 20), 300.0, 30.0, ["boom"], 1)]
    (task,) = tables["sourcecraft_tasks"].to_dicts()
    assert (task["workflow_slug"], task["task_slug"], json.loads(task["needs"]), task["cube_count"]) == (
        "deploy", "deploy-production", ["deploy-staging"], 1)
    (cube,) = tables["sourcecraft_cubes"].to_dicts()
    assert (cube["run_slug"], cube["task_slug"], cube["cube_slug"], cube["artifact_count"]) == (
        "7", "deploy-production", "smoke-test", 1)
    # Never started: no duration, no queue time, but the partition is the run's creation day.
    assert (cube["duration_seconds"], cube["queue_seconds"], cube["run_created_date"]) == (
        None, None, date(2026, 11, 20))


def test_unreadable_values_travel_with_their_row():
    (row,) = frames([parsed(run("8", "2026-11-20T10:00:00Z", event_type=7))])["sourcecraft_runs"].to_dicts()
    assert row["event_type"] is None and row["_parse_errors"] == "run.event_type: expected a string, got int"


def test_batches_are_per_repo_and_day_and_per_run_read_alone():
    pull = RepoPull("r1", runs=[
        parsed(run("9", "2026-11-20T23:59:00Z"), page=1),
        parsed(run("8", "2026-11-20T01:00:00Z"), page=2),
        parsed(run("7", "2026-11-19T22:00:00Z"), page=2),
        parsed(run("3", "2026-11-10T08:00:00Z"), page=None),
    ])
    sources = [(b.source.name, b.source.key, b.frame.height) for b in batches_by_table([pull])["sourcecraft_runs"]]
    assert sources == [
        ("GET /repos/id:r1/cicd/runs page 2, runs created 2026-11-19", "r1-2026-11-19", 1),
        ("GET /repos/id:r1/cicd/runs pages 1-2, runs created 2026-11-20", "r1-2026-11-20", 2),
        ("GET /repos/id:r1/cicd/runs/3", "r1-run-3", 1),
    ]


def test_runs_without_a_creation_time_are_quarantined_with_their_source(tmp_path: Path):
    pull = RepoPull("r1", runs=[parsed(run("9", "2026-11-20T10:00:00Z")), parsed(run("8", None))])
    batches = batches_by_table([pull])[SOURCECRAFT_RUNS.name]

    report = land_batches(tmp_path, SOURCECRAFT_RUNS, SCHEMAS[SOURCECRAFT_RUNS.name], batches, EXTRACTED)

    assert (report.rows_valid, report.rows_quarantined) == (1, 1)
    [(source, reason, record)] = duckdb.execute(
        "select source_file, reason, record from read_parquet($1)",
        [str(tmp_path / "_quarantine" / "sourcecraft_runs" / "r1-undated.parquet")],
    ).fetchall()
    assert source == "GET /repos/id:r1/cicd/runs page 1, runs without a creation time"
    assert "created_date" in reason and json.loads(record)["run_slug"] == "8"
