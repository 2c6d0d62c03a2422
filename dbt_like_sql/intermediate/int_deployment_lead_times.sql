-- One row per deployment of int_deployments whose run is known, as detected there, with its
-- run's branch and commit and where its lead time starts:
-- CircleCI the pipeline's creation (the push or trigger; basis pipeline_created), gocdnext the
-- creation of the repo's first run of the same commit (first_run_of_commit), else the
-- deployment's own run creation (run_created). No source reports commit times.
-- Kept by the run's creation day (run_date). A commit's first run is never after the deploying
-- run, so a change to runs of one day reaches only deployments of that day and later: no
-- lookback. That first run may be any time earlier, so it is looked up in every stored day of
-- int_ci_runs (`main.`: not only the days being rewritten), for the commits deployed only.
-- It carries the deployment's columns so that fct_deployments reads one model, not a join of two.

with

deployments as (

    select * from int_deployments

),

runs as (

    select * from int_ci_runs

),

deployed_runs as (

    select
        d.*,
        -- the run's own, as the commit's first run is looked up by them
        r.org as run_org,
        r.repo as run_repo,
        r.branch,
        r.revision,
        r.created_at,
        r.pipeline_created_at
    from deployments as d
    inner join runs as r on r.provider = d.provider and r.run_id = d.run_id

),

first_runs_of_commits as (

    select
        provider,
        org,
        repo,
        revision,
        min(created_at) as first_created_at
    from main.int_ci_runs
    where revision in (select revision from deployed_runs)
    group by
        provider,
        org,
        repo,
        revision

),

started as (

    select
        d.*,
        case
            when d.pipeline_created_at is not null then d.pipeline_created_at
            when f.first_created_at is not null then least(f.first_created_at, d.created_at)
            else d.created_at
        end as lead_time_started_at,
        case
            when d.pipeline_created_at is not null then 'pipeline_created'
            when f.first_created_at is not null then 'first_run_of_commit'
            else 'run_created'
        end as lead_time_basis
    from deployed_runs as d
    left join first_runs_of_commits as f
        on f.provider = d.provider
        and f.org is not distinct from d.run_org
        and f.repo = d.run_repo
        and f.revision = d.revision

),

final as (

    select
        -- ids
        provider,
        deployment_id,
        run_id,
        job_id,
        org,
        repo,
        workflow_name,
        branch,
        revision,

        -- what it was
        deployment_name,
        detected_by,
        is_production,
        outcome,
        status,

        -- timestamps
        run_date,
        deploy_date,
        deployed_at,
        lead_time_started_at,

        -- durations
        lead_time_basis,
        date_diff('millisecond', lead_time_started_at, deployed_at) / 1000.0 as lead_time_seconds

    from started

)

select * from final
