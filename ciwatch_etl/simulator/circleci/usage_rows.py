"""One usage-export row per simulated job run: the 48 columns as typed Python values.

Both the exported files and `Simulator.expected_usage_rows` come from here, so the ground truth a
test compares with is, by construction, what the files contain. Timestamps are naive UTC (the
files carry no zone), dates are `date`, nulls are None.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from ciwatch_etl.simulator.circleci.entities import Job, Workflow
from ciwatch_etl.simulator.circleci.world import World


def _naive(value: datetime | None) -> datetime | None:
    return None if value is None else value.replace(tzinfo=None)


def usage_rows(world: World, org_ids: Iterable[str], start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Rows of the jobs whose JOB_RUN_STARTED_AT lies in [start, end], in export order."""
    # The columns of the org, project, pipeline and workflow, worked out once a workflow.
    shared: dict[Workflow, dict[str, Any]] = {}
    rows = []
    for job in world.jobs_started_between(org_ids, start, end):
        columns = shared.get(job.workflow)
        if columns is None:
            columns = shared[job.workflow] = _workflow_columns(world, job.workflow)
        rows.append({**columns, **_job_columns(job)})
    return rows


def usage_row(world: World, job: Job) -> dict[str, Any]:
    return {**_workflow_columns(world, job.workflow), **_job_columns(job)}


def _workflow_columns(world: World, workflow: Workflow) -> dict[str, Any]:
    pipeline = workflow.pipeline
    project = pipeline.project
    org = project.org
    return {
        "ORGANIZATION_ID": org.id,
        "ORGANIZATION_NAME": org.name,
        "ORGANIZATION_CREATED_DATE": org.created_date,
        "PROJECT_ID": project.id,
        "PROJECT_NAME": project.name,
        "PROJECT_CREATED_DATE": project.created_date,
        "LAST_BUILD_FINISHED_AT": _naive(world.last_build_finished_at(project)),
        "VCS_NAME": org.vcs_name,
        "VCS_URL": project.vcs_url,
        "VCS_BRANCH": pipeline.branch,
        "PIPELINE_ID": pipeline.id,
        "PIPELINE_CREATED_AT": _naive(pipeline.created_at),
        "PIPELINE_NUMBER": pipeline.number,
        "IS_UNREGISTERED_USER": pipeline.is_unregistered_user,
        "PIPELINE_TRIGGER_SOURCE": pipeline.trigger_source,
        "PIPELINE_TRIGGER_USER_ID": pipeline.trigger_user_id,
        "WORKFLOW_ID": workflow.id,
        "WORKFLOW_NAME": workflow.name,
        "WORKFLOW_FIRST_JOB_QUEUED_AT": _naive(workflow.first_job_queued_at),
        "WORKFLOW_FIRST_JOB_STARTED_AT": _naive(workflow.first_job_started_at),
        "WORKFLOW_STOPPED_AT": _naive(workflow.stopped_at),
        "IS_WORKFLOW_SUCCESSFUL": workflow.status == "success",
    }


def _job_columns(job: Job) -> dict[str, Any]:
    spec = job.spec
    util = job.utilisation
    credits = job.credits
    return {
        "JOB_NAME": job.name,
        "JOB_ID": job.id,
        "JOB_RUN_NUMBER": job.number,
        "JOB_RUN_DATE": job.started_at.date(),
        "JOB_RUN_QUEUED_AT": _naive(job.queued_at),
        "JOB_RUN_STARTED_AT": _naive(job.started_at),
        "JOB_RUN_STOPPED_AT": _naive(job.stopped_at),
        "JOB_BUILD_STATUS": job.status,
        "RESOURCE_CLASS": spec.resource_class.name,
        "OPERATING_SYSTEM": "linux",
        "EXECUTOR": spec.resource_class.executor,
        "PARALLELISM": spec.parallelism,
        "JOB_RUN_SECONDS": float(job.run_seconds),
        "MEDIAN_CPU_UTILIZATION_PCT": None if util is None else util.median_cpu_pct,
        "MAX_CPU_UTILIZATION_PCT": None if util is None else util.max_cpu_pct,
        "MEDIAN_RAM_UTILIZATION_PCT": None if util is None else util.median_ram_pct,
        "MAX_RAM_UTILIZATION_PCT": None if util is None else util.max_ram_pct,
        "COMPUTE_CREDITS": credits.compute / 100,
        "DLC_CREDITS": credits.dlc / 100,
        "USER_CREDITS": credits.user / 100,
        "STORAGE_CREDITS": credits.storage / 100,
        "NETWORK_CREDITS": credits.network / 100,
        "LEASE_CREDITS": credits.lease / 100,
        "LEASE_OVERAGE_CREDITS": credits.lease_overage / 100,
        "IPRANGES_CREDITS": credits.ipranges / 100,
        "TOTAL_CREDITS": credits.total / 100,
    }
