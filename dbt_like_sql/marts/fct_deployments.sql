-- One row per deployment (int_deployments: how it was detected, production or not) with its
-- lead time and, for failed production deployments, its restore.
-- Lead time runs from lead_time_started_at to the deployment's finish: CircleCI the pipeline's
-- creation (the push or trigger; basis pipeline_created), gocdnext the creation of the repo's
-- first run of the same commit (first_run_of_commit), else the deployment's own run creation
-- (run_created). No source reports commit times.
-- Restore (failed production deployments): the next successful production deployment of the same
-- provider, org and repo, restore_seconds from this one's finish to that one's. It may come any
-- time later, so this model is rebuilt in full (an as-of join: one sorted pass, not a pair per
-- failure and later success).

with

deployments as (

    select * from int_deployments

),

runs as not materialized (

    select * from int_ci_runs

),

first_runs_of_commits as (

    select
        provider,
        org,
        repo,
        revision,
        min(created_at) as first_created_at
    from runs
    where revision is not null
    group by
        provider,
        org,
        repo,
        revision

),

started as (

    select
        d.*,
        r.branch,
        r.revision,
        case
            when r.pipeline_created_at is not null then r.pipeline_created_at
            when f.first_created_at is not null then least(f.first_created_at, r.created_at)
            else r.created_at
        end as lead_time_started_at,
        case
            when r.pipeline_created_at is not null then 'pipeline_created'
            when f.first_created_at is not null then 'first_run_of_commit'
            else 'run_created'
        end as lead_time_basis
    from deployments as d
    inner join runs as r on r.provider = d.provider and r.run_id = d.run_id
    left join first_runs_of_commits as f
        on f.provider = r.provider
        and f.org is not distinct from r.org
        and f.repo = r.repo
        and f.revision = r.revision

),

production_successes as (

    select
        provider,
        org,
        repo,
        deployed_at
    from deployments
    where is_production
        and outcome = 'success'

),

restored as (

    select
        f.provider,
        f.deployment_id,
        s.deployed_at as restored_at
    from deployments as f
    asof inner join production_successes as s
        on s.provider = f.provider
        and s.org is not distinct from f.org
        and s.repo = f.repo
        and s.deployed_at > f.deployed_at
    where f.is_production
        and f.outcome = 'failed'

),

final as (

    select
        -- ids
        d.provider,
        d.deployment_id,
        d.run_id,
        d.job_id,
        d.org,
        d.repo,
        d.workflow_name,
        d.branch,
        d.revision,

        -- what it was
        d.deployment_name,
        d.detected_by,
        d.is_production,
        case when d.is_production then 'production' else 'other' end as environment,
        d.outcome,
        d.status,

        -- timestamps
        d.deploy_date,
        d.deployed_at,
        d.lead_time_started_at,
        r.restored_at,

        -- durations
        d.lead_time_basis,
        date_diff('millisecond', d.lead_time_started_at, d.deployed_at) / 1000.0 as lead_time_seconds,
        date_diff('millisecond', d.deployed_at, r.restored_at) / 1000.0 as restore_seconds

    from started as d
    left join restored as r on r.provider = d.provider and r.deployment_id = d.deployment_id

)

select * from final
