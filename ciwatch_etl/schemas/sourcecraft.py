"""SourceCraft CI runs as four raw tables (runs, workflows, tasks, cubes) and what a valid row is.

The API nests cubes in tasks in workflows in runs; each level becomes a table keyed by the repo,
the run slug and the slugs of its parents (ids may be empty, slugs are names from the CI config
and unique under their parent). Every table is partitioned by the run's creation date, which
never changes, so a re-pulled run updates its rows in place. Durations are computed from the
`dates` the API gives at each level (it gives no durations): run time = finished - started,
queue time = started - created. Artifacts are counted per cube, not landed: their download URLs
are temporary signed links. Unknown statuses are kept (the staging models flag them).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import pandera.polars as pa
import polars as pl

from ciwatch_etl.schemas.circleci_usage_columns import LOAD_COLUMNS
from ciwatch_etl.schemas.declared import row_types, table_schema
from ciwatch_etl.schemas.raw_table import RawTable
from ciwatch_etl.sources.sourcecraft.records import Cube, Dates, Run, Task, Workflow

_DATE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("created_at", "timestamp"),
    ("started_at", "timestamp"),
    ("finished_at", "timestamp"),
    ("updated_at", "timestamp"),
    ("duration_seconds", "double"),  # finished_at - started_at
    ("queue_seconds", "double"),  # started_at - created_at
)
_RUN_KEY = (("repo_id", "varchar"), ("run_slug", "varchar"))


def _node_columns(
    parents: tuple[str, ...], node: str, fields: tuple[tuple[str, str], ...]
) -> tuple[tuple[str, str], ...]:
    """A workflow's, task's or cube's columns: its run's key, its parents' slugs, its own slug and
    id, its `fields`, its dates and its run's created date (the partition)."""
    return (
        *_RUN_KEY,
        *((f"{parent}_slug", "varchar") for parent in parents),
        (f"{node}_slug", "varchar"),
        (f"{node}_id", "varchar"),
        *fields,
        *_DATE_COLUMNS,
        ("run_created_date", "date"),
    )


RUN_COLUMNS: tuple[tuple[str, str], ...] = (
    *_RUN_KEY,
    ("run_id", "varchar"),
    ("run_number", "bigint"),  # the slug is the repo's run counter
    ("status", "varchar"),
    ("event_type", "varchar"),
    ("user_id", "varchar"),
    ("user_slug", "varchar"),
    ("pull_request_id", "varchar"),
    ("pull_request_slug", "varchar"),
    ("error_messages", "varchar"),  # JSON array of strings
    ("workflow_count", "bigint"),
    *_DATE_COLUMNS,
    ("created_date", "date"),
)
WORKFLOW_COLUMNS = _node_columns((), "workflow", (
    ("description", "varchar"), ("status", "varchar"), ("progress_percent", "double"), ("task_count", "bigint"),
))
TASK_COLUMNS = _node_columns(("workflow",), "task", (
    ("description", "varchar"),
    ("status", "varchar"),
    ("needs", "varchar"),  # JSON array of task names
    ("progress_percent", "double"),
    ("cube_count", "bigint"),
))
CUBE_COLUMNS = _node_columns(("workflow", "task"), "cube", (
    ("status", "varchar"),
    ("needs", "varchar"),  # JSON array of cube names
    ("artifact_count", "bigint"),
))

SOURCECRAFT_RUNS = RawTable(
    name="sourcecraft_runs",
    lake_path="sourcecraft/runs",
    partition_column="created_date",
    key=("repo_id", "run_slug"),
    columns=RUN_COLUMNS + LOAD_COLUMNS,
    description="One row per SourceCraft CI run (repo id + run slug); the latest pull of a run wins.",
)
SOURCECRAFT_WORKFLOWS = RawTable(
    name="sourcecraft_workflows",
    lake_path="sourcecraft/workflows",
    partition_column="run_created_date",
    key=("repo_id", "run_slug", "workflow_slug"),
    columns=WORKFLOW_COLUMNS + LOAD_COLUMNS,
    description="One row per workflow of a SourceCraft CI run; the latest pull of the run wins.",
)
SOURCECRAFT_TASKS = RawTable(
    name="sourcecraft_tasks",
    lake_path="sourcecraft/tasks",
    partition_column="run_created_date",
    key=("repo_id", "run_slug", "workflow_slug", "task_slug"),
    columns=TASK_COLUMNS + LOAD_COLUMNS,
    description="One row per task of a SourceCraft CI workflow run; the latest pull of the run wins.",
)
SOURCECRAFT_CUBES = RawTable(
    name="sourcecraft_cubes",
    lake_path="sourcecraft/cubes",
    partition_column="run_created_date",
    key=("repo_id", "run_slug", "workflow_slug", "task_slug", "cube_slug"),
    columns=CUBE_COLUMNS + LOAD_COLUMNS,
    description="One row per cube (step) of a SourceCraft CI task run; the latest pull of the run wins.",
)
SOURCECRAFT_TABLES: tuple[RawTable, ...] = (SOURCECRAFT_RUNS, SOURCECRAFT_WORKFLOWS, SOURCECRAFT_TASKS,
                                            SOURCECRAFT_CUBES)

_CHECKS: dict[str, list[pa.Check]] = {
    "duration_seconds": [pa.Check.ge(0)],
    "queue_seconds": [pa.Check.ge(0)],
    "progress_percent": [pa.Check.in_range(0, 100)],
}


def _schema(table: RawTable) -> pa.DataFrameSchema:
    return table_schema(table, _CHECKS | {k: [pa.Check.str_length(min_value=1)] for k in table.key})


SCHEMAS: dict[str, pa.DataFrameSchema] = {table.name: _schema(table) for table in SOURCECRAFT_TABLES}


def frames(runs: Iterable[Run]) -> dict[str, pl.DataFrame]:
    """The rows of every table for these runs, typed; `_parse_errors` lists values that could not be read."""
    rows: dict[str, list[dict[str, Any]]] = {t.name: [] for t in SOURCECRAFT_TABLES}
    for run in runs:
        created = run.dates.created_at.date() if run.dates.created_at else None
        run_key = {"repo_id": run.repo_id, "run_slug": run.slug}
        rows[SOURCECRAFT_RUNS.name].append({
            **run_key,
            "run_id": run.id,
            "run_number": int(run.slug) if run.slug and run.slug.isdigit() else None,
            "status": run.status,
            "event_type": run.event_type,
            "user_id": run.user_id,
            "user_slug": run.user_slug,
            "pull_request_id": run.pull_id,
            "pull_request_slug": run.pull_slug,
            "error_messages": json.dumps(list(run.error_messages)),
            "workflow_count": len(run.workflows),
            **_timing(run.dates),
            "created_date": created,
            "_parse_errors": _errors(run.parse_errors),
        })
        for workflow in run.workflows:
            rows[SOURCECRAFT_WORKFLOWS.name].append(_workflow_row(run_key, created, workflow))
            workflow_key = {**run_key, "workflow_slug": workflow.slug}
            for task in workflow.tasks:
                rows[SOURCECRAFT_TASKS.name].append(_task_row(workflow_key, created, task))
                task_key = {**workflow_key, "task_slug": task.slug}
                for cube in task.cubes:
                    rows[SOURCECRAFT_CUBES.name].append(_cube_row(task_key, created, cube))
    return {table.name: pl.DataFrame(rows[table.name], schema=row_types(table), orient="row")
            for table in SOURCECRAFT_TABLES}


def _workflow_row(key: dict[str, Any], created: date | None, workflow: Workflow) -> dict[str, Any]:
    return {
        **key,
        "workflow_slug": workflow.slug,
        "workflow_id": workflow.id,
        "description": workflow.description,
        "status": workflow.status,
        "progress_percent": workflow.progress_percent,
        "task_count": len(workflow.tasks),
        **_timing(workflow.dates),
        "run_created_date": created,
        "_parse_errors": _errors(workflow.parse_errors),
    }


def _task_row(key: dict[str, Any], created: date | None, task: Task) -> dict[str, Any]:
    return {
        **key,
        "task_slug": task.slug,
        "task_id": task.id,
        "description": task.description,
        "status": task.status,
        "needs": json.dumps(list(task.needs)),
        "progress_percent": task.progress_percent,
        "cube_count": len(task.cubes),
        **_timing(task.dates),
        "run_created_date": created,
        "_parse_errors": _errors(task.parse_errors),
    }


def _cube_row(key: dict[str, Any], created: date | None, cube: Cube) -> dict[str, Any]:
    return {
        **key,
        "cube_slug": cube.slug,
        "cube_id": cube.id,
        "status": cube.status,
        "needs": json.dumps(list(cube.needs)),
        "artifact_count": cube.artifact_count,
        **_timing(cube.dates),
        "run_created_date": created,
        "_parse_errors": _errors(cube.parse_errors),
    }


def _timing(dates: Dates) -> dict[str, Any]:
    return {
        "created_at": dates.created_at,
        "started_at": dates.started_at,
        "finished_at": dates.finished_at,
        "updated_at": dates.updated_at,
        "duration_seconds": _seconds(dates.started_at, dates.finished_at),
        "queue_seconds": _seconds(dates.created_at, dates.started_at),
    }


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    return None if start is None or end is None else (end - start).total_seconds()


def _errors(errors: tuple[str, ...]) -> str | None:
    return "; ".join(errors) or None
