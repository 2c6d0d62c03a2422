"""Dagster wiring for gocdnext: one incremental pull landing four raw tables.

Unpartitioned: each run reads the lake's high-water mark (newest run created_at) and lists the
runs created since then minus a lookback, fetching details only of runs that are new, changed
or unfinished; runs the lake still holds as unfinished are re-read however old they are. Every
project's detail is read too, for its default branch (`gocdnext_projects`, a dimension), with
the server's name: GOCDNEXT_NAME, else the host of GOCDNEXT_URL (gocdnext's API names no server).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl

from ciwatch_etl.assets.pulls import landed_metadata, skipped
from ciwatch_etl.landing.gocdnext_state import LakeState, read_lake_state
from ciwatch_etl.schemas.raw_table import RawTable
from ciwatch_etl.landing.records import RecordLoadReport, SourceBatch, land_batches
from ciwatch_etl.landing.staged import Source
from ciwatch_etl.resources import OWNERS, GocdnextResource, DataFolderResource
from ciwatch_etl.schemas.gocdnext import (
    COLUMNS,
    GOCDNEXT_JOBS,
    GOCDNEXT_RUNS,
    GOCDNEXT_STAGES,
    GOCDNEXT_TABLES,
    SCHEMAS,
)
from ciwatch_etl.schemas.gocdnext_rows import Problems, frame, run_rows
from ciwatch_etl.schemas.gocdnext_projects import PROJECTS
from ciwatch_etl.schemas.validation import split_by_schema
from ciwatch_etl.sources.gocdnext.records import RunPull
from ciwatch_etl.sources.gocdnext.projects import ProjectDetails, project_details

# Where rows come from (`_source_file`): the request, never the host or the token; rows of many
# runs landed together name the request with `{run_id}` (each row has its run_id).
RUN_DETAIL_REQUEST = "GET /api/v1/runs/{run_id}?logs=0"
PROJECT_DETAIL_REQUEST = "GET /api/v1/projects/{slug}?runs=1"

@dataclass(frozen=True)
class _Rows:
    source: Source  # a run's detail request (key `run-<id>`)
    rows: list[dict[str, Any]]


def _rows(pull: RunPull, server_host: str, problems: Problems) -> dict[str, list[_Rows]]:
    """Each run table's rows, grouped by the request they came from."""
    projects = {p.get("slug"): p for p in pull.projects}
    grouped: dict[str, list[_Rows]] = {t.name: [] for t in GOCDNEXT_TABLES}
    for detail in pull.details:
        run_id = detail.get("id")
        source = Source(RUN_DETAIL_REQUEST.replace("{run_id}", str(run_id)), f"run-{run_id}")
        run, stages, jobs = run_rows(detail, projects.get(detail.get("project_slug")), server_host, problems)
        grouped[GOCDNEXT_RUNS.name].append(_Rows(source, [run]))
        grouped[GOCDNEXT_STAGES.name].append(_Rows(source, stages))
        grouped[GOCDNEXT_JOBS.name].append(_Rows(source, jobs))
    return grouped


def _project_batch(details: ProjectDetails, server_host: str, server_name: str) -> SourceBatch:
    """Every project's detail as one batch: its quarantine is replaced by the next pull's."""
    server = {"server_host": server_host, "server_name": server_name}
    return SourceBatch(PROJECTS.frame_of((detail, server) for detail in details.details),
                       Source(PROJECT_DETAIL_REQUEST, "projects"))


def _batches(lake: Path, table: RawTable, groups: list[_Rows]) -> list[SourceBatch]:
    """Batches whose quarantine is kept per source (per run): a re-pulled run replaces its own rejects.

    Validating costs about the same for one row as for thousands, so the rows of every source
    that passes go in one batch; a source with a rejected row gets a batch of its own, and one
    that passes now but had rows quarantined before gets an empty one, which clears them.
    """
    columns = COLUMNS[table.name]
    keys = [group.source.key for group in groups for _ in group.rows]
    everything = frame(columns, [row for group in groups for row in group.rows])
    checked = split_by_schema(SCHEMAS[table.name], everything.with_columns(pl.Series("_key", keys, pl.String)))
    failing = set(checked.rejected.get_column("_key").to_list())
    passed = [group for group in groups if group.source.key not in failing]
    batches = []
    if passed:
        name = passed[0].source.name if len(passed) == 1 else RUN_DETAIL_REQUEST
        batches.append(SourceBatch(frame(columns, [row for group in passed for row in group.rows]),
                                   Source(name, "passed")))
    for group in groups:
        if group.source.key in failing:
            batches.append(SourceBatch(frame(columns, group.rows), group.source))
        elif (table.quarantine_directory(lake) / f"{group.source.key}.parquet").exists():
            batches.append(SourceBatch(frame(columns, []), group.source))
    return batches


def _pull_metadata(pull: RunPull, state: LakeState, problems: Problems) -> dict[str, Any]:
    listing = pull.listing
    return {
        "high_water_mark": dg.MetadataValue.text(str(state.high_water_mark or "none (first pull)")),
        "listed_since": dg.MetadataValue.text(str(listing.cutoff or "none (no runs)")),
        "runs_listed": dg.MetadataValue.int(len(listing.runs)),
        "pages_read": dg.MetadataValue.int(listing.pages),
        "duplicates_dropped": dg.MetadataValue.int(listing.duplicates_dropped),
        "details_fetched": dg.MetadataValue.int(len(pull.details)),
        "finished_runs_unchanged": dg.MetadataValue.int(pull.unchanged),
        "runs_vanished": dg.MetadataValue.int(len(pull.vanished)),
        "unreadable_values": dg.MetadataValue.int(len(problems)),
    }


def _projects_metadata(report: RecordLoadReport, details: ProjectDetails, server_name: str) -> dict[str, Any]:
    return landed_metadata(report) | {
        "server_name": dg.MetadataValue.text(server_name),
        "projects_gone": dg.MetadataValue.int(len(details.gone)),
    }


@dg.multi_asset(
    name="gocdnext",
    specs=[
        dg.AssetSpec(table.name, description=table.description, group_name="gocdnext",
                     kinds={"gocdnext", "polars", "parquet"}, owners=OWNERS, skippable=True)
        for table in (*GOCDNEXT_TABLES, PROJECTS.table)
    ],
)
def gocdnext_pull(context: dg.AssetExecutionContext, gocdnext: GocdnextResource, data_folder: DataFolderResource):
    """One row per gocdnext run, stage, job and project: an incremental pull landing four raw tables."""
    if skipped(context, "gocdnext", gocdnext.missing_settings):
        return
    lookback = timedelta(days=gocdnext.lookback_days)
    state = read_lake_state(data_folder.paths.lake, lookback)
    since = None if state.high_water_mark is None else state.high_water_mark - lookback
    with gocdnext.client() as client:
        context.log.info(
            f"gocdnext {client.server_host}: listing runs created since "
            f"{since or f'{gocdnext.initial_days:g} days before the newest run'}"
        )
        pull = client.pull(since, state.known, state.open_run_ids, initial=timedelta(days=gocdnext.initial_days))
        details = project_details(client, [p.get("slug") for p in pull.projects])
        server_host = client.server_host
    server_name = gocdnext.name.strip() or server_host
    problems = Problems()
    rows = _rows(pull, server_host, problems)
    for problem in problems[:20]:
        context.log.warning(f"gocdnext: {problem} (kept as null)")
    extracted_at = datetime.now(timezone.utc).replace(tzinfo=None)
    reports: dict[str, RecordLoadReport] = {}
    with data_folder.write_lock():
        for table in GOCDNEXT_TABLES:
            batches = _batches(data_folder.paths.lake, table, rows[table.name])
            reports[table.name] = land_batches(data_folder.paths.lake, table, SCHEMAS[table.name], batches, extracted_at)
        projects = land_batches(data_folder.paths.lake, PROJECTS.table, PROJECTS.schema,
                                [_project_batch(details, server_host, server_name)], extracted_at)
    context.log.info(
        f"gocdnext: {len(pull.listing.runs)} runs listed, {len(pull.details)} details fetched, "
        f"{reports[GOCDNEXT_RUNS.name].merge.rows_new} new runs landed"
    )
    for table in GOCDNEXT_TABLES:
        metadata = landed_metadata(reports[table.name])
        if table is GOCDNEXT_RUNS:
            metadata |= _pull_metadata(pull, state, problems)
        yield dg.MaterializeResult(asset_key=table.name, metadata=metadata)
    yield dg.MaterializeResult(asset_key=PROJECTS.name, metadata=_projects_metadata(projects, details, server_name))
