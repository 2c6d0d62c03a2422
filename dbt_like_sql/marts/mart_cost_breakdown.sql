-- One row per UTC day x provider x org x repo x workflow x job x resource class x branch x credit
-- type: what CI cost, in credits (CircleCI, billing-grade, from the usage export) and USD.
-- Each CircleCI credit type (compute, dlc, user, storage, network, lease, lease_overage, ipranges)
-- is its own row, kept only where the group spent some of it. SourceCraft and gocdnext bill no
-- credits: one 'estimated_compute' row with null credits and the job minutes priced at the
-- provider's USD per minute (is_estimate). A null org, workflow, branch or resource class is
-- labelled '(none)' so the grain stays unique.

with

jobs as not materialized (

    -- read twice below: materialized, a copy of its 5M rows of a year would spill to disk
    select * from int_job_runs_priced

),

settings as (

    select * from raw.settings

),

circleci_types as (

    select
        usage_date,
        provider,
        org,
        repo,
        workflow_name,
        job_name,
        resource_class,
        branch,
        credit_type,
        credits
    from jobs
    unpivot (
        credits for credit_type in (
            compute_credits as 'compute',
            dlc_credits as 'dlc',
            user_credits as 'user',
            storage_credits as 'storage',
            network_credits as 'network',
            lease_credits as 'lease',
            lease_overage_credits as 'lease_overage',
            ipranges_credits as 'ipranges'
        )
    )
    where provider = 'circleci'

),

circleci_daily as (

    select
        t.usage_date,
        t.provider,
        coalesce(t.org, '(none)') as org,
        t.repo,
        coalesce(t.workflow_name, '(none)') as workflow_name,
        t.job_name,
        coalesce(t.resource_class, '(none)') as resource_class,
        coalesce(t.branch, '(none)') as branch,
        t.credit_type,
        count(*) as job_runs,
        sum(t.credits) as credits,
        sum(t.credits) * any_value(s.credit_price_usd) as cost_usd,
        false as is_estimate
    from circleci_types as t
    cross join settings as s
    where t.credits <> 0
    group by
        t.usage_date,
        t.provider,
        coalesce(t.org, '(none)'),
        t.repo,
        coalesce(t.workflow_name, '(none)'),
        t.job_name,
        coalesce(t.resource_class, '(none)'),
        coalesce(t.branch, '(none)'),
        t.credit_type

),

estimated_daily as (

    select
        usage_date,
        provider,
        coalesce(org, '(none)') as org,
        repo,
        coalesce(workflow_name, '(none)') as workflow_name,
        job_name,
        coalesce(resource_class, '(none)') as resource_class,
        coalesce(branch, '(none)') as branch,
        'estimated_compute' as credit_type,
        count(*) as job_runs,
        null::double as credits,
        sum(cost_usd) as cost_usd,
        true as is_estimate
    from jobs
    where provider <> 'circleci'
    group by
        usage_date,
        provider,
        coalesce(org, '(none)'),
        repo,
        coalesce(workflow_name, '(none)'),
        job_name,
        coalesce(resource_class, '(none)'),
        coalesce(branch, '(none)')

),

final as (

    select * from circleci_daily
    union all by name
    select * from estimated_daily

)

select * from final
