-- One row per SourceCraft workflow within a run. SourceCraft's CI API names no branch or
-- revision: null. org and repo are the repository's organization slug and slug from
-- stg_sourcecraft__repos (repo_id its id; until the repository has been read, repo is that id and
-- org null). is_rerun: a workflow of a run with event 'restart'. int_ci_runs maps the status.

with

workflows as (

    select * from stg_sourcecraft__workflows

),

runs as (

    select * from stg_sourcecraft__runs

),

repos as (

    select * from stg_sourcecraft__repos

),

final as (

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
        w.created_at::date as run_date,
        w.created_at as queued_at,
        w.started_at,
        w.finished_at,
        null::double as total_credits,
        coalesce(r.is_restart, false) as is_rerun,
        'sourcecraft_api' as history_source
    from workflows as w
    left join runs as r on r.repo_id = w.repo_id and r.run_slug = w.run_slug
    left join repos as repo on repo.repo_id = w.repo_id

)

select * from final
