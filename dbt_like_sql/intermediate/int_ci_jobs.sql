-- One row per CI job across providers: a CircleCI job, a SourceCraft task, a gocdnext job
-- attempt. Each row names its run (int_ci_runs.run_id) and carries the run's org, repo,
-- workflow and branch. CircleCI jobs come from the pipelines API and, for jobs it has not
-- reached, from the usage export (as int_ci_runs' workflows do); credits and resource class come
-- from the usage export by job id.
-- A status missing from int_ci_status_map becomes 'other' (is_status_mapped false), never dropped.
-- is_rerun: CircleCI a job of a re-run workflow; SourceCraft a task of a restart run;
-- gocdnext an attempt after the first (attempt > 0). is_approval: a CircleCI approval job, which
-- waits for a person and runs nothing (a gocdnext approval gate guards a job that then runs: not one).
-- run_date is the run's creation day, so a job is stored with its run (jobs without a known run:
-- their own first timestamp's day).

with

circleci_jobs as not materialized (

    -- read twice below: inlined, as a materialized copy would hold all its rows
    select * from stg_circleci__jobs

),

sourcecraft_tasks as (

    select * from stg_sourcecraft__tasks

),

gocdnext_jobs as (

    select * from stg_gocdnext__jobs

),

status_map as (

    select * from int_ci_status_map where status_level = 'job'

),

runs as (

    select * from int_ci_runs

),

circleci_usage as not materialized (

    -- read by two CTEs below: materialized, its 5M rows of a year would be copied, then spill
    select * from stg_circleci__usage_jobs

),

circleci_api_jobs as (

    select
        'circleci' as provider,
        j.job_id,
        j.workflow_id as run_id,
        j.job_name,
        j.job_status as source_status,
        coalesce(u.resource_class, j.resource_class) as resource_class,
        j.created_at,
        j.queued_at,
        j.started_at,
        j.stopped_at as finished_at,
        u.total_credits,
        null::integer as exit_code,
        coalesce(j.job_type = 'approval', false) as is_approval
    from circleci_jobs as j
    left join circleci_usage as u on u.job_id = j.job_id

),

circleci_usage_jobs as (

    select
        'circleci' as provider,
        job_id,
        workflow_id as run_id,
        job_name,
        job_status as source_status,
        resource_class,
        null::timestamp as created_at,
        job_queued_at as queued_at,
        job_started_at as started_at,
        job_stopped_at as finished_at,
        total_credits,
        null::integer as exit_code,
        false as is_approval
    from circleci_usage
    -- one condition, not two: DuckDB guesses each condition keeps a fifth of the rows, and with
    -- two it would guess this side smaller than the runs and hash its 5M rows of a year (spilling)
    -- for the join to runs below, instead of the runs
    where (workflow_id is not null and job_id not in (select job_id from circleci_jobs)) is true

),

sourcecraft as (

    select
        'sourcecraft' as provider,
        repo_id || '/' || run_slug || '/' || workflow_name || '/' || task_name as job_id,
        repo_id || '/' || run_slug || '/' || workflow_name as run_id,
        task_name as job_name,
        task_status as source_status,
        null::varchar as resource_class,
        created_at,
        created_at as queued_at,
        started_at,
        finished_at,
        null::double as total_credits,
        null::integer as exit_code,
        false as is_approval
    from sourcecraft_tasks

),

gocdnext as (

    select
        'gocdnext' as provider,
        job_id || '#' || attempt as job_id,
        run_id,
        job_name,
        job_status as source_status,
        null::varchar as resource_class,
        null::timestamp as created_at,
        null::timestamp as queued_at,
        started_at,
        finished_at,
        null::double as total_credits,
        exit_code,
        false as is_approval
    from gocdnext_jobs

),

unioned as (

    select * from circleci_api_jobs
    union all by name
    select * from circleci_usage_jobs
    union all by name
    select * from sourcecraft
    union all by name
    select * from gocdnext

),

-- Durations are never negative (a clock skew between start and finish counts as 0).
derived as (

    select
        u.*,
        coalesce(m.status, 'other') as status,
        m.status is not null as is_status_mapped,
        greatest(date_diff('millisecond', u.started_at, u.finished_at), 0) / 1000.0 as duration_seconds,
        greatest(date_diff('millisecond', u.queued_at, u.started_at), 0) / 1000.0 as queue_seconds
    from unioned as u
    left join status_map as m on m.provider = u.provider and m.source_status = u.source_status

),

final as (

    select
        -- ids
        u.provider,
        u.job_id,
        u.run_id,
        r.org,
        r.repo,
        r.repo_id,
        r.workflow_name,
        u.job_name,
        r.branch,
        r.revision,

        -- how it ended
        u.status,
        u.source_status,
        u.is_status_mapped,
        u.exit_code,
        u.is_approval,
        coalesce(r.is_rerun, false) or (u.provider = 'gocdnext' and not ends_with(u.job_id, '#0')) as is_rerun,
        u.resource_class,

        -- timestamps
        coalesce(r.created_at, u.created_at, u.queued_at, u.started_at, u.finished_at)::date as run_date,
        u.created_at,
        u.queued_at,
        u.started_at,
        u.finished_at,

        -- durations
        u.duration_seconds,
        u.queue_seconds,

        -- credits
        u.total_credits

    from derived as u
    left join runs as r on r.provider = u.provider and r.run_id = u.run_id

)

select * from final
