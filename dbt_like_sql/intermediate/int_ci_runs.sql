-- One row per CI run at pipeline level, across providers: a CircleCI workflow, a SourceCraft
-- workflow within a run, a gocdnext pipeline run.
-- The union of one model per provider, int_<provider>__runs, which say where each provider's
-- rows come from (CircleCI: the pipelines API, else the usage export; history_source says which).
-- org and repo are names people read, repo_id the provider's own id of the repo (for joins):
-- CircleCI the slug's org and project (repo_id the project slug); SourceCraft the repository's
-- organization slug and slug from stg_sourcecraft__repos (repo_id its id; until the repository
-- has been read, repo is that id and org null); gocdnext the server's name and the project slug
-- from stg_gocdnext__projects (repo_id the project id; before a project is read, the server's
-- host). SourceCraft's CI API names no branch or revision: null. A status missing from
-- int_ci_status_map becomes 'other' (is_status_mapped false), never dropped.
-- is_rerun: CircleCI a later workflow of the same name in the same pipeline; SourceCraft a run
-- with event 'restart'; gocdnext a later run of the same pipeline on the same commit. "Later"
-- means created at most 14 days after the one before it (the lookback_days of the provider models;
-- this union's rows of a day are theirs of the same day, so it needs none).

with

circleci_runs as (

    select * from int_circleci__runs

),

sourcecraft_runs as (

    select * from int_sourcecraft__runs

),

gocdnext_runs as (

    select * from int_gocdnext__runs

),

status_map as (

    select * from int_ci_status_map where status_level = 'run'

),

unioned as (

    select * from circleci_runs
    union all by name
    select * from sourcecraft_runs
    union all by name
    select * from gocdnext_runs

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
