-- One row per CI run at pipeline level, across providers: a CircleCI workflow, a SourceCraft
-- workflow within a run, a gocdnext pipeline run.
-- CircleCI rows come from the pipelines API (pipeline history), credits from the usage export
-- by workflow id (null where the export has not covered the workflow yet). SourceCraft's API
-- knows no org and no branch: both are null. A status missing from int_ci_status_map becomes
-- 'other' (is_status_mapped false), never dropped.
-- is_rerun: CircleCI a later workflow of the same name in the same pipeline; SourceCraft a run
-- with event 'restart'; gocdnext a later run of the same pipeline on the same commit.

with

status_map as (

    select * from int_ci_status_map where status_level = 'run'

),

circleci_jobs as (

    select
        workflow_id,
        min(queued_at) as queued_at,
        min(started_at) as started_at
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

circleci as (

    select
        'circleci' as provider,
        w.workflow_id as run_id,
        split_part(w.project_slug, '/', 2) as org,
        split_part(w.project_slug, '/', 3) as repo,
        w.workflow_name,
        p.branch,
        p.trigger_type as trigger_event,
        w.workflow_status as source_status,
        p.revision,
        w.created_at,
        j.queued_at,
        j.started_at,
        w.stopped_at as finished_at,
        c.total_credits,
        row_number() over (partition by w.pipeline_id, w.workflow_name order by w.created_at, w.workflow_id) > 1
            as is_rerun
    from stg_circleci__workflows as w
    left join stg_circleci__pipelines as p on p.pipeline_id = w.pipeline_id
    left join circleci_jobs as j on j.workflow_id = w.workflow_id
    left join circleci_credits as c on c.workflow_id = w.workflow_id

),

sourcecraft as (

    select
        'sourcecraft' as provider,
        w.repo_id || '/' || w.run_slug || '/' || w.workflow_name as run_id,
        null::varchar as org,
        w.repo_id as repo,
        w.workflow_name,
        null::varchar as branch,
        r.event_type as trigger_event,
        w.workflow_status as source_status,
        null::varchar as revision,
        w.created_at,
        w.created_at as queued_at,
        w.started_at,
        w.finished_at,
        null::double as total_credits,
        coalesce(r.is_restart, false) as is_rerun
    from stg_sourcecraft__workflows as w
    left join stg_sourcecraft__runs as r on r.repo_id = w.repo_id and r.run_slug = w.run_slug

),

gocdnext as (

    select
        'gocdnext' as provider,
        run_id,
        org,
        repo,
        pipeline_name as workflow_name,
        branch,
        trigger_cause as trigger_event,
        run_status as source_status,
        commit_sha as revision,
        created_at,
        created_at as queued_at,
        started_at,
        finished_at,
        null::double as total_credits,
        commit_sha is not null
        and row_number() over (partition by pipeline_id, commit_sha order by created_at, run_id) > 1 as is_rerun
    from stg_gocdnext__runs

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
        u.workflow_name,
        u.branch,
        u.revision,

        -- what started it, how it ended
        u.trigger_event,
        coalesce(m.status, 'other') as status,
        u.source_status,
        m.status is not null as is_status_mapped,
        u.is_rerun,

        -- timestamps
        u.created_at,
        u.queued_at,
        u.started_at,
        u.finished_at,

        -- durations
        date_diff('millisecond', u.started_at, u.finished_at) / 1000.0 as duration_seconds,
        date_diff('millisecond', u.queued_at, u.started_at) / 1000.0 as queue_seconds,

        -- credits
        u.total_credits

    from unioned as u
    left join status_map as m on m.provider = u.provider and m.source_status = u.source_status

)

select * from final
