-- One row per gocdnext pipeline run. org is the server's name and repo the project slug from
-- stg_gocdnext__projects (repo_id the project id; before a project is read, the server's host and
-- the run's repo). is_rerun: a later run of the same pipeline on the same commit, created at most
-- 14 days after the one before it (the model's lookback_days). int_ci_runs maps the status.

with

runs as (

    select * from stg_gocdnext__runs

),

projects as (

    select * from stg_gocdnext__projects

),

final as (

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
        r.created_at::date as run_date,
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
    from runs as r
    left join projects as p on p.project_id = r.project_id

)

select * from final
