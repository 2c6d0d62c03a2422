"""What the lake holds of CircleCI: the projects the usage exports name, and where the Insights and
pipeline pulls start (high-water marks, workflows still unfinished)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from ciwatch_etl.landing.lake_state import lake_connection
from ciwatch_etl.landing.tables import CIRCLECI_USAGE_JOBS
from ciwatch_etl.package_files import default_models_dir, model_sql
from ciwatch_etl.schemas import circleci_insights as insights
from ciwatch_etl.schemas.circleci_pipelines import JOBS, PIPELINES, WORKFLOWS
from ciwatch_etl.sources.circleci.insights import RETENTION, InsightsState
from ciwatch_etl.sources.circleci.pipelines import UNFINISHED_WORKFLOW_STATUSES, PipelineState

# The staging models that define a usage row's `project_slug`, in the order they build.
PROJECT_SLUG_MODELS = ("stg_circleci__usage_projects", "stg_circleci__usage_jobs")


def usage_project_slugs(lake: Path) -> list[str]:
    """Project slugs of every project in the landed usage exports, as the warehouse names them.

    `project_slug` has one definition, the staging SQL's (`PROJECT_SLUG_MODELS`), run here over
    the lake. Slugs the API cannot be asked about are left out: a project without a project id is
    named by its project name there, and CircleCI's own slugs (`circleci/<org id>/<project id>`,
    GitLab and GitHub App projects) need the id.
    """
    with lake_connection(lake, {f"raw.{CIRCLECI_USAGE_JOBS.name}": CIRCLECI_USAGE_JOBS}) as con:
        for name in PROJECT_SLUG_MODELS:
            sql = model_sql((default_models_dir() / "staging" / f"{name}.sql").read_text(encoding="utf-8"))
            con.execute(f'create view "{name}" as {sql}')
        rows = con.execute(
            f"""
            select distinct project_slug
            from "{PROJECT_SLUG_MODELS[-1]}"
            where project_slug is not null
                and (project_id is not null or project_slug not like 'circleci/%')
            order by project_slug
            """
        ).fetchall()
    return [slug for (slug,) in rows]


def insights_state(lake: Path, now: datetime) -> InsightsState:
    tables = {"runs": insights.WORKFLOW_RUNS.table, "series": insights.JOB_TIMESERIES.table}
    with lake_connection(lake, tables) as con:
        runs = con.execute(
            "select project_slug, workflow_name, max(created_at), min(created_at) filter (where stopped_at is null) "
            "from runs group by all"
        ).fetchall()
        series = con.execute(
            "select project_slug, workflow_name, max(interval_start_at) from series group by all"
        ).fetchall()
        # Workflows with runs Insights still keeps: asked for even if today's summary failed.
        known = con.execute(
            "select project_slug, list(distinct workflow_name) from runs where created_at >= $1 group by all",
            [_naive(now - RETENTION)],
        ).fetchall()
    return InsightsState(
        runs_high_water={(p, w): at for p, w, at, _ in runs},
        runs_unfinished_since={(p, w): since for p, w, _, since in runs if since is not None},
        series_high_water={(p, w): at for p, w, at in series},
        known_workflows={p: names for p, names in known},
    )


# Unfinished: a workflow still running; a workflow that succeeded or failed without jobs in the
# lake (its job calls failed); a pipeline without workflows (its workflow call failed, or none has
# started yet; errored pipelines never get any).
_RECHECK = """
    with recent_workflows as (
        select w.pipeline_id, w.workflow_id, w.status,
            exists (select 1 from jobs j where j.workflow_id = w.workflow_id) as has_jobs
        from workflows w
        where w.created_at >= $since
    )
    select p.pipeline_id, p.project_slug
    from pipelines p
    where p.created_at >= $since
        and coalesce(p.state, '') <> 'errored'
        and (
            not exists (select 1 from workflows w where w.pipeline_id = p.pipeline_id)
            or exists (
                select 1 from recent_workflows w
                where w.pipeline_id = p.pipeline_id
                    and (list_contains($unfinished, w.status) or (w.status in ('success', 'failed') and not w.has_jobs))
            )
        )
"""

_SETTLED = """
    select w.workflow_id from workflows w
    where w.created_at >= $since and not list_contains($unfinished, w.status)
        and exists (select 1 from jobs j where j.workflow_id = w.workflow_id)
"""


def pipeline_state(lake: Path, now: datetime, recheck_days: int) -> PipelineState:
    tables = {"pipelines": PIPELINES.table, "workflows": WORKFLOWS.table, "jobs": JOBS.table}
    unfinished = sorted(UNFINISHED_WORKFLOW_STATUSES)
    since = _naive(now - timedelta(days=recheck_days))
    with lake_connection(lake, tables) as con:
        high_water = con.execute("select project_slug, max(created_at) from pipelines group by all").fetchall()
        recheck = con.execute(_RECHECK, {"since": since, "unfinished": unfinished}).fetchall()
        settled = con.execute(
            _SETTLED, {"since": _naive(now - timedelta(days=recheck_days + 1)), "unfinished": unfinished}
        ).fetchall()
    return PipelineState(
        high_water={slug: at for slug, at in high_water},
        recheck={pipeline_id: slug for pipeline_id, slug in recheck},
        settled_workflows=frozenset(w for (w,) in settled),
    )


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(tzinfo=None)

