"""JSON objects of the pipeline, workflow and job endpoints, rendered from the world at "now".

Key sets follow recorded responses (DevLake's e2e tables, demisto's test data) where those exist
and the spec otherwise. Details the usage export does not carry (logins, commit subjects, PR
numbers, contexts) are derived from stable ids, so they never change between calls.
"""

from __future__ import annotations

import uuid
import zlib
from datetime import timedelta
from typing import Any

from ciwatch_etl.simulator.circleci.entities import Job, Org, Pipeline, Workflow
from ciwatch_etl.simulator.circleci.timeline import Timeline
from ciwatch_etl.simulator.circleci.wire import iso_ms, iso_seconds

_LOGINS = ("amira-k", "bdoyle", "chen-wei", "dmitri-p", "elena.ruiz", "fkowalski", "gracehopper42",
           "hiro-t", "ines-m", "jpatel", "kofi-a", "lena.schmidt", "mateo-g", "nadia-o", "oscar-v")
_SCHEDULER_LOGIN = "scheduling-system"  # the actor CircleCI shows for scheduled pipelines
_BOT_LOGIN = "dependabot[bot]"
_TRIGGER_TYPES = {"webhook": "webhook", "api": "api", "schedule": "scheduled_pipeline"}
_PROVIDERS = {"github": "GitHub", "bitbucket": "Bitbucket"}
_SUBJECTS = ("Fix {topic} edge case", "Add {topic} support", "Refactor {topic} module", "Bump {topic} limits",
             "Handle {topic} errors", "Tidy up {topic}", "Speed up {topic}", "Test {topic} paths")
_TOPICS = ("release notes", "dependency pins", "login flow", "retry policy", "cache keys", "metrics")
_CONTEXTS = {"deploy-staging": "aws-staging", "deploy-production": "aws-production"}  # secrets of deploy jobs
_SYSTEM_ACTOR = uuid.UUID("5c1d5ade-0000-4000-8000-5c4ed5137e00")


def _stable(text: str) -> int:
    return zlib.crc32(text.encode())


def _actor_id(pipeline: Pipeline) -> str:
    if pipeline.trigger_user_id is not None:
        return pipeline.trigger_user_id
    return str(uuid.uuid5(_SYSTEM_ACTOR, pipeline.project.org.id))


def _actor(pipeline: Pipeline) -> dict[str, Any]:
    org: Org = pipeline.project.org
    user = pipeline.trigger_user_id
    if user is None:
        return {"login": _SCHEDULER_LOGIN, "avatar_url": None}
    if user == org.bot_user_id:
        return {"login": _BOT_LOGIN, "avatar_url": None}
    login = _LOGINS[org.user_ids.index(user) % len(_LOGINS)]
    avatar = f"https://avatars.githubusercontent.com/u/{_stable(user) % 90_000_000 + 1_000_000}?v=4"
    return {"login": login, "avatar_url": avatar if org.vcs_name == "github" else None}


def _vcs(pipeline: Pipeline) -> dict[str, Any]:
    project = pipeline.project
    vcs: dict[str, Any] = {
        "origin_repository_url": project.vcs_url,
        "target_repository_url": project.vcs_url,
        "revision": pipeline.revision,
        "provider_name": _PROVIDERS[project.org.vcs_name],
        "branch": pipeline.branch,
    }
    if pipeline.trigger_source != "api":  # a recorded API-triggered pipeline carries no commit
        topic = (_TOPICS[_stable(pipeline.revision) % len(_TOPICS)] if pipeline.branch == project.default_branch
                 else pipeline.branch.rsplit("/", 1)[-1].rsplit("-", 1)[0])
        subject = _SUBJECTS[_stable(pipeline.revision) % len(_SUBJECTS)].format(topic=topic)
        vcs["commit"] = {"body": "", "subject": subject}
    if pipeline.branch != project.default_branch:  # pushes to a branch with an open pull request
        review_id = str(_stable(f"{project.id}/{pipeline.branch}") % 9000 + 100)
        pulls = "pull" if project.org.vcs_name == "github" else "pull-requests"
        vcs["review_id"], vcs["review_url"] = review_id, f"{project.vcs_url}/{pulls}/{review_id}"
    return vcs


def pipeline_json(pipeline: Pipeline) -> dict[str, Any]:
    # The webhook reaches CircleCI a moment before the pipeline exists (about 0.8 s in recordings).
    received = pipeline.created_at - timedelta(milliseconds=_stable(pipeline.id) % 900 + 100)
    return {
        "id": pipeline.id,
        "errors": [],
        "project_slug": pipeline.project.slug,
        "updated_at": iso_ms(pipeline.created_at),
        "number": pipeline.number,
        "state": "created",
        "created_at": iso_ms(pipeline.created_at),
        "trigger": {"received_at": iso_ms(received), "type": _TRIGGER_TYPES[pipeline.trigger_source],
                    "actor": _actor(pipeline)},
        "vcs": _vcs(pipeline),
    }


def workflow_json(timeline: Timeline, workflow: Workflow) -> dict[str, Any]:
    pipeline = workflow.pipeline
    finished = timeline.is_finished(workflow)
    return {
        "pipeline_id": pipeline.id,
        "id": workflow.id,
        "name": workflow.name,
        "project_slug": pipeline.project.slug,
        "status": timeline.workflow_status(workflow),
        "started_by": _actor_id(pipeline),
        "pipeline_number": pipeline.number,
        "created_at": iso_seconds(workflow.created_at),
        "stopped_at": iso_seconds(workflow.stopped_at) if finished else None,
    }


def _dependencies(timeline: Timeline, job: Job) -> list[str]:
    """Ids of the jobs of the stage before this job's: its `requires`."""
    stages = timeline.stages(job.workflow)
    stage = next(i for i, specs in enumerate(stages) if job.spec in specs)
    before = stages[stage - 1] if stage > 0 else ()
    return [j.id for j in timeline.jobs(job.workflow) if j.spec in before]


def job_item_json(timeline: Timeline, job: Job) -> dict[str, Any]:
    """An item of GET /workflow/{id}/job; a running job has no `stopped_at` key (the spec's
    optional field)."""
    item: dict[str, Any] = {
        "dependencies": _dependencies(timeline, job),
        "job_number": job.number,
        "id": job.id,
        "started_at": iso_seconds(job.started_at),
        "created_at": iso_seconds(job.queued_at),  # not in the spec, but in every recorded item
        "name": job.name,
        "project_slug": job.workflow.pipeline.project.slug,
        "status": timeline.job_status(job),
        "type": "build",
    }
    if timeline.is_finished(job):
        item["stopped_at"] = iso_seconds(job.stopped_at)
    return item


def job_details_json(timeline: Timeline, job: Job) -> dict[str, Any]:
    """GET /project/{slug}/job/{number}: `duration` in milliseconds, null while running."""
    workflow = job.workflow
    pipeline = workflow.pipeline
    project = pipeline.project
    finished = timeline.is_finished(job)
    status = timeline.job_status(job)
    long_vcs = {"gh": "github", "bb": "bitbucket"}[project.org.slug_prefix]
    duration_ms = round((job.stopped_at - job.started_at).total_seconds() * 1000)
    contexts = [{"name": _CONTEXTS[job.name]}] if job.name in _CONTEXTS else []
    return {
        "web_url": (f"https://app.circleci.com/pipelines/{long_vcs}/{project.org.name}/{project.name}/"
                    f"{pipeline.number}/workflows/{workflow.id}/jobs/{job.number}"),
        "project": {"id": project.id, "slug": project.slug, "name": project.name,
                    "external_url": project.vcs_url},
        "parallel_runs": [{"index": i, "status": status} for i in range(job.spec.parallelism)],
        "started_at": iso_ms(job.started_at),
        "latest_workflow": {"id": workflow.id, "name": workflow.name},
        "name": job.name,
        "executor": {"resource_class": job.spec.resource_class.name, "type": job.spec.resource_class.executor},
        "parallelism": job.spec.parallelism,
        "status": status,
        "number": job.number,
        "pipeline": {"id": pipeline.id},
        "duration": duration_ms if finished else None,
        "created_at": iso_ms(job.queued_at),
        "messages": [],
        "contexts": contexts,
        "organization": {"name": project.org.name},
        "queued_at": iso_ms(job.queued_at),
        "stopped_at": iso_ms(job.stopped_at) if finished else None,
    }
