-- One row per CI run at pipeline level, across providers: a CircleCI workflow, a SourceCraft
-- workflow within a run, a gocdnext pipeline run.
-- CircleCI rows come from the pipelines API (pipeline history) and, for workflows the history has
-- not reached (older than its first pull, or never pulled), from the usage export: its job rows
-- carry the workflow's name, branch, trigger and times, and its status is read from them
-- (every job successful: success; a job failed: failed; else canceled). history_source says which.
-- Only the pipelines API knows the revision; usage-export rows have none. Credits come from the
-- usage export by workflow id (null where the export has not covered the workflow yet).
-- org and repo are names people read, repo_id the provider's own id of the repo (for joins):
-- CircleCI the slug's org and project (repo_id the project slug); SourceCraft the repository's
-- organization slug and slug from stg_sourcecraft__repos (repo_id its id; until the repository
-- has been read, repo is that id and org null); gocdnext the server's name and the project slug
-- from stg_gocdnext__projects (repo_id the project id; before a project is read, the server's
-- host). SourceCraft's CI API names no branch or revision: null. A status missing from
-- int_ci_status_map becomes 'other' (is_status_mapped false), never dropped.
-- is_rerun: CircleCI a later workflow of the same name in the same pipeline; SourceCraft a run
-- with event 'restart'; gocdnext a later run of the same pipeline on the same commit. "Later"
-- means created at most 14 days after the one before it (the model's lookback_days).

with

status_map as (

    select * from int_ci_status_map where status_level = 'run'

),

sourcecraft_repos as (

    select * from stg_sourcecraft__repos

),

gocdnext_projects as (

    select * from stg_gocdnext__projects

),

circleci_jobs as (

    select
        workflow_id,
        min(queued_at) as queued_at,
        min(started_at) as started_at,
        max(stopped_at) as stopped_at
    from stg_circleci__jobs
    group by workflow_id

),

circleci_credits as (

    select
        workflow_id,
        sum(total_credits) as total_credits
    from stg_circleci__usage_jobs
    group by workflow_id

),

circleci_api_runs as (

    select
        w.workflow_id as run_id,
        w.pipeline_id,
        split_part(w.project_slug, '/', 2) as org,
        split_part(w.project_slug, '/', 3) as repo,
        w.project_slug as repo_id,
        w.workflow_name,
        p.branch,
        p.trigger_type as trigger_event,
        w.workflow_status as source_status,
        p.revision,
        p.created_at as pipeline_created_at,
        w.created_at,
        j.queued_at,
        j.started_at,
        -- the workflow's stop has whole seconds, its jobs' times milliseconds: a workflow ends
        -- with its last job, so that job's stop gives the end at the precision of the start
        case when w.stopped_at is not null then greatest(w.stopped_at, j.stopped_at) end as finished_at,
        'pipelines_api' as history_source
    from stg_circleci__workflows as w
    left join stg_circleci__pipelines as p on p.pipeline_id = w.pipeline_id
    left join circleci_jobs as j on j.workflow_id = w.workflow_id

),

circleci_usage_runs as (

    select
        workflow_id as run_id,
        -- one workflow has one pipeline, project, name and branch; max() picks it without grouping on them
        max(pipeline_id) as pipeline_id,
        max(split_part(project_slug, '/', 2)) as org,
        max(split_part(project_slug, '/', 3)) as repo,
        max(project_slug) as repo_id,
        max(workflow_name) as workflow_name,
        max(branch) as branch,
        max(trigger_source) as trigger_event,
        case
            when bool_and(is_workflow_successful) then 'success'
            when bool_or(job_status in ('failed', 'infrastructure_fail', 'timedout', 'terminated-unknown', 'unauthorized'))
                then 'failed'
            else 'canceled'
        end as source_status,
        null::varchar as revision,
        min(pipeline_created_at) as pipeline_created_at,
        -- the export may lack the workflow's queue time; the job run date is always there
        coalesce(min(workflow_queued_at), min(job_queued_at), min(job_started_at), min(job_run_date)::timestamp)
            as created_at,
        min(workflow_queued_at) as queued_at,
        min(workflow_started_at) as started_at,
        max(workflow_stopped_at) as finished_at,
        'usage_export' as history_source
    from stg_circleci__usage_jobs
    where workflow_id is not null
        and workflow_id not in (select workflow_id from stg_circleci__workflows)
    group by workflow_id

),

circleci as (

    select
        'circleci' as provider,
        r.*,
        c.total_credits,
        coalesce(
            lag(r.created_at) over (partition by r.pipeline_id, r.workflow_name order by r.created_at, r.run_id)
                >= r.created_at - interval 14 days,
            false
        ) as is_rerun
    from (
        select * from circleci_api_runs
        union all by name
        select * from circleci_usage_runs
    ) as r
    left join circleci_credits as c on c.workflow_id = r.run_id

),

sourcecraft as (

    select
        'sourcecraft' as provider,
        w.repo_id || '/' || w.run_slug || '/' || w.workflow_name as run_id,
        repo.org,
        coalesce(repo.repo, w.repo_id) as repo,
        w.repo_id,
        w.workflow_name,
        null::varchar as branch,
        r.event_type as trigger_event,
        w.workflow_status as source_status,
        null::varchar as revision,
        null::varchar as pipeline_id,
        null::timestamp as pipeline_created_at,
        w.created_at,
        w.created_at as queued_at,
        w.started_at,
        w.finished_at,
        null::double as total_credits,
        coalesce(r.is_restart, false) as is_rerun,
        'sourcecraft_api' as history_source
    from stg_sourcecraft__workflows as w
    left join stg_sourcecraft__runs as r on r.repo_id = w.repo_id and r.run_slug = w.run_slug
    left join sourcecraft_repos as repo on repo.repo_id = w.repo_id

),

gocdnext as (

    select
        'gocdnext' as provider,
        r.run_id,
        coalesce(p.org, r.server_host) as org,
        coalesce(p.repo, r.repo) as repo,
        r.project_id as repo_id,
        r.pipeline_name as workflow_name,
        r.branch,
        r.trigger_cause as trigger_event,
        r.run_status as source_status,
        r.commit_sha as revision,
        null::varchar as pipeline_id,
        null::timestamp as pipeline_created_at,
        r.created_at,
        r.created_at as queued_at,
        r.started_at,
        r.finished_at,
        null::double as total_credits,
        r.commit_sha is not null and coalesce(
            lag(r.created_at) over (partition by r.pipeline_id, r.commit_sha order by r.created_at, r.run_id)
                >= r.created_at - interval 14 days,
            false
        ) as is_rerun,
        'gocdnext_api' as history_source
    from stg_gocdnext__runs as r
    left join gocdnext_projects as p on p.project_id = r.project_id

),

unioned as (

    select * from circleci
    union all by name
    select * from sourcecraft
    union all by name
    select * from gocdnext

),

final as (

    select
        -- ids
        u.provider,
        u.run_id,
        u.org,
        u.repo,
        u.repo_id,
        u.workflow_name,
        u.branch,
        u.revision,
        u.pipeline_id,
        u.history_source,

        -- what started it, how it ended
        u.trigger_event,
        coalesce(m.status, 'other') as status,
        u.source_status,
        m.status is not null as is_status_mapped,
        u.is_rerun,

        -- timestamps
        u.created_at::date as run_date,
        u.pipeline_created_at,
        u.created_at,
        u.queued_at,
        u.started_at,
        u.finished_at,

        -- durations
        greatest(date_diff('millisecond', u.started_at, u.finished_at), 0) / 1000.0 as duration_seconds,
        greatest(date_diff('millisecond', u.queued_at, u.started_at), 0) / 1000.0 as queue_seconds,

        -- credits
        u.total_credits

    from unioned as u
    left join status_map as m on m.provider = u.provider and m.source_status = u.source_status

)

select * from final
