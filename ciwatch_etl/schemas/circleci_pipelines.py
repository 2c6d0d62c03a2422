"""Raw tables of CircleCI pipelines, workflows and jobs (API v2), declared as `JsonField`s
(see `json_table`).

Facts from real responses (DevLake's recorded v2 data, demisto, faros): an errored pipeline has no
`vcs`, its trigger type may be outside the spec's enum ("Decoupled Ingestion System") and its
`received_at` may be the epoch; jobs carry `created_at` although the spec does not list it; some
clients' fixtures give `pipeline_number` as a string ("25"). Statuses and types outside the spec's
enums land as they are: the staging models flag them.
"""

from __future__ import annotations

from ciwatch_etl.schemas.raw_table import RawTable
from ciwatch_etl.schemas.json_rows import JsonField
from ciwatch_etl.schemas.json_table import json_table

# -- pipelines, workflows, jobs ----------------------------------------------------------------

F = JsonField

PIPELINES = json_table(
    "circleci_pipelines", "circleci/pipelines", "created_date", ("pipeline_id",),
    "One row per CircleCI pipeline (GET /project/{slug}/pipeline), latest pull wins.",
    (
        F("pipeline_id", "varchar", "id", required=True),
        F("project_slug", "varchar", "project_slug", required=True),
        F("pipeline_number", "bigint", "number", min_value=0),
        F("state", "varchar", "state"),
        F("created_at", "timestamp", "created_at", required=True),
        F("created_date", "date", derived_from="created_at"),
        F("updated_at", "timestamp", "updated_at"),
        F("trigger_type", "varchar", "trigger.type"),
        F("trigger_received_at", "timestamp", "trigger.received_at"),
        F("trigger_actor_login", "varchar", "trigger.actor.login"),
        F("trigger_actor_avatar_url", "varchar", "trigger.actor.avatar_url"),
        F("vcs_provider_name", "varchar", "vcs.provider_name"),
        F("vcs_origin_repository_url", "varchar", "vcs.origin_repository_url"),
        F("vcs_target_repository_url", "varchar", "vcs.target_repository_url"),
        F("branch", "varchar", "vcs.branch"),
        F("tag", "varchar", "vcs.tag"),
        F("revision", "varchar", "vcs.revision"),
        F("review_id", "varchar", "vcs.review_id"),
        F("review_url", "varchar", "vcs.review_url"),
        F("commit_subject", "varchar", "vcs.commit.subject"),
        F("commit_body", "varchar", "vcs.commit.body"),
        F("errors_json", "json", "errors"),
        F("trigger_parameters_json", "json", "trigger_parameters"),
    ),
)

WORKFLOWS = json_table(
    "circleci_workflows", "circleci/workflows", "created_date", ("workflow_id",),
    "One row per CircleCI workflow run (GET /pipeline/{id}/workflow), latest pull wins.",
    (
        F("workflow_id", "varchar", "id", required=True),
        F("pipeline_id", "varchar", "pipeline_id", required=True),
        F("project_slug", "varchar", "project_slug"),
        F("workflow_name", "varchar", "name"),
        F("status", "varchar", "status"),
        F("pipeline_number", "bigint", "pipeline_number", min_value=0),
        F("tag", "varchar", "tag"),
        F("started_by", "varchar", "started_by"),
        F("canceled_by", "varchar", "canceled_by"),
        F("errored_by", "varchar", "errored_by"),
        F("auto_rerun_number", "bigint", "auto_rerun_number", min_value=0),
        F("max_auto_reruns", "bigint", "max_auto_reruns", min_value=0),
        F("created_at", "timestamp", "created_at", required=True),
        F("created_date", "date", derived_from="created_at"),
        F("stopped_at", "timestamp", "stopped_at"),
    ),
)

# A job is partitioned by its workflow's creation day: a job's own start time is unknown until
# it starts and would move the row between partitions.
JOBS = json_table(
    "circleci_jobs", "circleci/jobs", "workflow_created_date", ("job_id",),
    "One row per CircleCI job of a workflow (GET /workflow/{id}/job, plus the job's details "
    "from GET /project/{slug}/job/{number}), latest pull wins.",
    (
        F("job_id", "varchar", "id", required=True),
        F("workflow_id", "varchar", required=True),
        F("pipeline_id", "varchar"),
        F("workflow_created_date", "date", required=True),
        F("project_slug", "varchar", "project_slug"),
        F("job_number", "bigint", "job_number", min_value=0),
        F("job_name", "varchar", "name"),
        F("type", "varchar", "type"),
        F("status", "varchar", "status"),
        # The job list gives whole seconds, the details milliseconds: the details win when fetched.
        F("created_at", "timestamp", "details.created_at|created_at"),
        F("queued_at", "timestamp", "details.queued_at"),
        F("started_at", "timestamp", "details.started_at|started_at"),
        F("stopped_at", "timestamp", "details.stopped_at|stopped_at"),
        F("duration_ms", "bigint", "details.duration", min_value=0),
        F("duration_seconds", "double", derived_from="duration_ms"),
        F("parallelism", "bigint", "details.parallelism", min_value=0),
        F("resource_class", "varchar", "details.executor.resource_class"),
        F("executor_type", "varchar", "details.executor.type"),
        F("web_url", "varchar", "details.web_url"),
        F("project_id", "varchar", "details.project.id"),
        F("organization_name", "varchar", "details.organization.name"),
        F("approved_by", "varchar", "approved_by"),
        F("canceled_by", "varchar", "canceled_by"),
        F("approval_request_id", "varchar", "approval_request_id"),
        F("dependencies_json", "json", "dependencies"),
        F("requires_json", "json", "requires"),
        F("contexts_json", "json", "details.contexts"),
        F("messages_json", "json", "details.messages"),
        F("parallel_runs_json", "json", "details.parallel_runs"),
    ),
)

# Fields of the job details response that repeat what the workflow's job list already says
# (the list is the source of those columns) or what the pipeline rows hold.
JOB_DETAILS_IGNORED: frozenset[str] = frozenset(
    {
        "details.name", "details.number", "details.status", "details.pipeline.id", "details.latest_workflow.id",
        "details.latest_workflow.name", "details.project.slug", "details.project.name",
        "details.project.external_url",
    }
)

TABLES: tuple[RawTable, ...] = (PIPELINES.table, WORKFLOWS.table, JOBS.table)
