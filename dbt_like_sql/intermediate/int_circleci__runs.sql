-- One row per CircleCI workflow run. Rows come from the pipelines API (pipeline history) and,
-- for workflows the history has not reached (older than its first pull, or never pulled), from
-- the usage export: its job rows carry the workflow's name, branch, trigger and times, and its
-- status is read from them (every job successful: success; a job failed: failed; else
-- canceled). history_source says which. Only the pipelines API knows the revision; usage-export
-- rows have none. Credits come from the usage export by workflow id (null where the export has
-- not covered the workflow yet). org and repo are the project slug's org and project, repo_id the
-- slug. is_rerun: a later workflow of the same name in the same pipeline, created at most 14 days
-- after the one before it (the model's lookback_days). int_ci_runs maps the status.

with

workflows as not materialized (

    -- read twice below: by the API runs and to leave them out of the usage-export runs
    select * from stg_circleci__workflows

),

pipelines as (

    select * from stg_circleci__pipelines

),

jobs as (

    select * from stg_circleci__jobs

),

usage_jobs as not materialized (

    -- read twice below: materialized, a year's 5M rows would be copied, then spill
    select * from stg_circleci__usage_jobs

),

circleci_jobs as (

    select
        workflow_id,
        min(queued_at) as queued_at,
        min(started_at) as started_at,
        max(stopped_at) as stopped_at
    from jobs
    group by workflow_id

),
circleci_credits as (

    select
        workflow_id,
        sum(total_credits) as total_credits
    from usage_jobs
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
    from workflows as w
    left join pipelines as p on p.pipeline_id = w.pipeline_id
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
    from usage_jobs
    where workflow_id is not null
        and workflow_id not in (select workflow_id from workflows)
    group by workflow_id

),
final as (

    select
        'circleci' as provider,
        r.*,
        r.created_at::date as run_date,
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

)

select * from final
