"""Dagster wiring for SourceCraft CI runs: one incremental pull into five tables.

The API has no date filter, so there are no partitions: each pull pages every repo's runs newest
first back to its high-water mark (the newest run creation time already in the lake) minus a
lookback, from midnight, so every day it reaches is read whole. Runs still unfinished at an
earlier pull and older than that are read again one by one. Each repository is read as well, for
its names and default branch (`sourcecraft_repos`, a dimension).
"""

import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

import dagster as dg

from ciwatch_etl.assets.pulls import landed_metadata, skipped
from ciwatch_etl.landing.records import SourceBatch, land_batches
from ciwatch_etl.landing.sourcecraft_state import LakeState, read_lake_state
from ciwatch_etl.landing.staged import Source
from ciwatch_etl.resources import OWNERS, SourceCraftResource, DataFolderResource
from ciwatch_etl.schemas.sourcecraft import (
    SCHEMAS,
    SOURCECRAFT_RUNS,
    SOURCECRAFT_TABLES,
    frames,
)
from ciwatch_etl.schemas.sourcecraft_repos import REPOS
from ciwatch_etl.sources.sourcecraft.client import RepoPull, SourceCraftError
from ciwatch_etl.sources.sourcecraft.records import Run

# A run still unfinished this long after it was created is stuck: stop reading it again.
REREAD_UNFINISHED_DAYS = 30
UNDATED = "undated"  # batch of runs without a creation time (their rows are quarantined)
REPOSITORY_REQUEST = "GET /repos/id:{repo_id}"


@dataclass
class PullSummary:
    pulls: list[RepoPull] = field(default_factory=list)
    repositories: list[dict] = field(default_factory=list)  # GetRepositoryByID bodies
    windows: dict[str, str] = field(default_factory=dict)  # repo -> first creation time asked for
    failures: dict[str, str] = field(default_factory=dict)  # repo -> (first) error
    unknown: list[str] = field(default_factory=list)  # repos the API does not know (404)


@dg.multi_asset(
    name="sourcecraft_ci_runs",
    specs=[
        dg.AssetSpec(table.name, description=table.description, group_name="sourcecraft",
                     kinds={"sourcecraft", "polars", "parquet"}, owners=OWNERS, skippable=True)
        for table in (*SOURCECRAFT_TABLES, REPOS.table)
    ],
)
def sourcecraft_ci_runs(
    context: dg.AssetExecutionContext, sourcecraft: SourceCraftResource, data_folder: DataFolderResource
) -> Iterator[dg.MaterializeResult]:
    """One row per SourceCraft CI run, workflow, task and cube, and per repository: one pull lands all five."""
    if skipped(context, "SourceCraft", sourcecraft.missing_settings):
        return
    extracted_at = utc_now()
    lake = data_folder.paths.lake
    state = read_lake_state(lake, extracted_at - timedelta(days=REREAD_UNFINISHED_DAYS))
    summary = PullSummary()
    with sourcecraft.client() as client:
        for repo_id in sourcecraft.repo_id_list:
            known = state.get(repo_id, LakeState())
            since = pull_start(known.newest_created_at, extracted_at, sourcecraft.initial_days,
                               sourcecraft.lookback_days)
            summary.windows[repo_id] = f"{since:%Y-%m-%d %H:%M}"
            context.log.info(f"SourceCraft repo {repo_id}: runs created since {since:%Y-%m-%d %H:%M} UTC, "
                             f"{len(known.unfinished)} unfinished run(s) to refresh")
            try:
                summary.pulls.append(client.pull(repo_id, since, known.unfinished))
                repository = client.get_repository(repo_id)
            except SourceCraftError as error:  # one repo failing must not cost the others their data
                summary.failures.setdefault(repo_id, str(error))
                context.log.error(str(error))
                continue
            if repository is None:
                summary.unknown.append(repo_id)
            else:
                summary.repositories.append(repository)
    batches = batches_by_table(summary.pulls)
    repositories = [SourceBatch(REPOS.frame(summary.repositories), Source(REPOSITORY_REQUEST, "repositories"))]
    with data_folder.write_lock():
        reports = {
            table.name: land_batches(lake, table, SCHEMAS[table.name], batches[table.name], extracted_at)
            for table in SOURCECRAFT_TABLES
        }
        reports[REPOS.name] = land_batches(lake, REPOS.table, REPOS.schema, repositories, extracted_at)
    metadata = {
        name: {"batches": dg.MetadataValue.int(report.batches), **landed_metadata(report)}
        for name, report in reports.items()
    }
    metadata[SOURCECRAFT_RUNS.name] |= pull_metadata(summary)
    if summary.failures:
        raise dg.Failure(
            description="SourceCraft pull failed for: " + "; ".join(summary.failures.values()),
            metadata=metadata[SOURCECRAFT_RUNS.name],
        )
    for name, table_metadata in metadata.items():
        yield dg.MaterializeResult(asset_key=name, metadata=table_metadata)


def utc_now() -> datetime:
    """The time a pull is made as of (naive UTC): a first pull's window, how old a run may be to be
    read again, and the landed rows' extraction time."""
    return datetime.now(UTC).replace(tzinfo=None)


def pull_start(newest: datetime | None, now: datetime, initial_days: int, lookback_days: float) -> datetime:
    """Midnight (UTC) of the first day to read whole: the lookback before the newest run, or the
    first pull's window."""
    start = newest - timedelta(days=lookback_days) if newest is not None else now - timedelta(days=initial_days)
    return datetime.combine(start.date(), time())


def batches_by_table(pulls: list[RepoPull]) -> dict[str, list[SourceBatch]]:
    """One batch per repo and run creation day (each such day is read whole), and one per run read
    on its own; each batch's quarantine is replaced when that day, or run, is read again."""
    groups: dict[tuple[str, str], list[Run]] = defaultdict(list)
    for pull in pulls:
        for run in pull.runs:
            if run.page is None:
                groups[(pull.repo_id, f"run-{run.slug}")].append(run)
            else:
                day = run.dates.created_at.date().isoformat() if run.dates.created_at else UNDATED
                groups[(pull.repo_id, day)].append(run)
    batches: dict[str, list[SourceBatch]] = {t.name: [] for t in SOURCECRAFT_TABLES}
    for (repo_id, group), runs in sorted(groups.items()):
        source = Source(_source_name(runs, group), _safe_key(f"{repo_id}-{group}"))
        for name, frame in frames(runs).items():
            batches[name].append(SourceBatch(frame, source))
    return batches


def _source_name(runs: list[Run], group: str) -> str:
    pages = sorted({r.page for r in runs if r.page is not None})
    if not pages:
        return runs[0].source
    listing = runs[0].source.rsplit(" page ", 1)[0]
    span = f"page {pages[0]}" if len(pages) == 1 else f"pages {pages[0]}-{pages[-1]}"
    created = "runs without a creation time" if group == UNDATED else f"runs created {group}"
    return f"{listing} {span}, {created}"


def _safe_key(key: str) -> str:
    """A quarantine file name: keep ids readable, drop anything a path could misread."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", key)


def pull_metadata(summary: PullSummary) -> dict[str, dg.MetadataValue]:
    pulls = summary.pulls
    unreadable = [error for p in pulls for r in p.runs for error in _parse_errors(r)]
    return {
        "repos_pulled": dg.MetadataValue.int(len(pulls)),
        "repos_failed": dg.MetadataValue.int(len(summary.failures)),
        "repos_unknown": dg.MetadataValue.int(len(summary.unknown)),
        "pages": dg.MetadataValue.int(sum(p.pages for p in pulls)),
        "runs_listed": dg.MetadataValue.int(sum(p.runs_listed for p in pulls)),
        "runs_repeated_by_shifted_pages": dg.MetadataValue.int(sum(p.runs_repeated for p in pulls)),
        "runs_reread": dg.MetadataValue.int(sum(len(p.runs_reread) for p in pulls)),
        "runs_gone": dg.MetadataValue.int(sum(len(p.runs_gone) for p in pulls)),
        "unreadable_values": dg.MetadataValue.int(len(unreadable)),
        "pulled_since_utc": dg.MetadataValue.json(summary.windows),
        "notes": dg.MetadataValue.md("\n".join(f"- {e}" for e in unreadable[:20]) or "none"),
    }


def _parse_errors(run: Run) -> Iterator[str]:
    where = f"repo {run.repo_id} run {run.slug}"
    yield from (f"{where}: {e}" for e in run.parse_errors)
    for workflow in run.workflows:
        yield from (f"{where}: {e}" for e in workflow.parse_errors)
        for task in workflow.tasks:
            yield from (f"{where}: {e}" for e in task.parse_errors)
            for cube in task.cubes:
                yield from (f"{where}: {e}" for e in cube.parse_errors)

