-- `metrics costs`: jobs whose resource class was over-provisioned in the window, and what they
-- would save. The evidence (utilisation, runs) is that of the latest month evaluated in the
-- window; the savings are the window's overprovisioned waste, and per month they are scaled to
-- 30 days of the window.

with

savings as (

    select
        org,
        repo,
        workflow_name,
        job_name,
        executor,
        resource_class,
        suggested_resource_class,
        sum(waste_credits) as savable_credits,
        sum(waste_usd) as savable_usd
    from mart_credit_waste
    where waste_date between $first_day and $last_day
        and ($provider is null or provider = $provider)
        and ($org is null or org = $org)
        and ($repo is null or repo = $repo)
        and category = 'overprovisioned'
    group by org, repo, workflow_name, job_name, executor, resource_class, suggested_resource_class

),

latest as (

    select *
    from mart_rightsizing_recommendations
    where usage_month between date_trunc('month', $first_day::date) and $last_day
        and ($provider is null or provider = $provider)
        and ($org is null or org = $org)
        and ($repo is null or repo = $repo)
    qualify row_number() over (
        partition by org, repo, workflow_name, job_name, executor, resource_class, suggested_resource_class
        order by usage_month desc
    ) = 1

)

select
    'circleci' as provider,
    s.org,
    s.repo,
    s.workflow_name,
    s.job_name,
    s.executor,
    s.resource_class,
    s.suggested_resource_class,
    l.usage_month as evaluated_month,
    l.measured_job_runs,
    l.avg_cpu_pct,
    l.max_cpu_pct,
    l.avg_ram_pct,
    l.max_ram_pct,
    s.savable_credits,
    s.savable_usd,
    s.savable_credits / $period_days * 30 as savable_credits_per_month,
    s.savable_usd / $period_days * 30 as savable_usd_per_month
from savings as s
left join latest as l
    on l.org is not distinct from s.org and l.repo = s.repo
    and l.workflow_name is not distinct from s.workflow_name and l.job_name = s.job_name
    and l.executor is not distinct from s.executor and l.resource_class = s.resource_class
    and l.suggested_resource_class = s.suggested_resource_class
order by s.savable_credits desc, s.repo, s.workflow_name, s.job_name
