-- One row per deployment: how it was detected, production or not (int_deployments), with its
-- lead time (int_deployment_lead_times, which carries the deployment's columns) and, for failed
-- production deployments, its restore (int_deployment_restores). A view: detection and lead
-- times are stored by day and rewritten only for the days a night changes; restores, which may
-- come any time later, are a small table. A deployment whose run is not known has no lead time
-- and is left out.

with

deployments as (

    select * from int_deployment_lead_times

),

restores as (

    select * from int_deployment_restores

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
        d.lead_time_seconds,
        r.restore_seconds

    from deployments as d
    left join restores as r on r.provider = d.provider and r.deployment_id = d.deployment_id

)

select * from final
