-- One row per UTC day x org x project x workflow x job x resource class x branch of CircleCI job runs.
-- A null branch (tag pipelines, some API triggers) or resource class is labelled '(none)', so
-- those runs keep one row each day and the grain stays unique.
-- usage_date is the day the job run began (job_run_date), not the day it was billed or exported.
-- total_cost_usd prices total_credits at raw.settings.credit_price_usd, the
-- CIWATCH_CREDIT_PRICE_USD the warehouse was built with.
-- failed_job_runs counts failed, infrastructure_fail, timedout and terminated-unknown runs;
-- canceled_job_runs counts canceled ones.

with

jobs as (

    select * from stg_circleci__usage_jobs

),

settings as (

    select * from raw.settings

),

daily as (

    select
        -- grain
        job_run_date as usage_date,
        provider,
        org_id,
        project_name,
        workflow_name,
        job_name,
        coalesce(resource_class, '(none)') as resource_class,
        coalesce(branch, '(none)') as branch,

        -- descriptors (the org name may change; pick one deterministically)
        max(org_name) as org_name,

        -- runs
        count(*) as job_runs,
        count_if(
            job_status in ('failed', 'infrastructure_fail', 'timedout', 'terminated-unknown')
        ) as failed_job_runs,
        count_if(job_status = 'canceled') as canceled_job_runs,

        -- durations
        sum(job_run_seconds) as job_run_seconds,
        sum(queue_seconds) as queue_seconds,

        -- credits
        sum(compute_credits) as compute_credits,
        sum(dlc_credits) as dlc_credits,
        sum(user_credits) as user_credits,
        sum(storage_credits) as storage_credits,
        sum(network_credits) as network_credits,
        sum(lease_credits) as lease_credits,
        sum(lease_overage_credits) as lease_overage_credits,
        sum(ipranges_credits) as ipranges_credits,
        sum(total_credits) as total_credits

    from jobs
    group by
        job_run_date,
        provider,
        org_id,
        project_name,
        workflow_name,
        job_name,
        coalesce(resource_class, '(none)'),
        coalesce(branch, '(none)')

),

final as (

    select
        daily.*,

        -- cost
        daily.total_credits * settings.credit_price_usd as total_cost_usd

    from daily
    cross join settings

)

select * from final
