-- One row per period x provider x org x repo with CI runs or production deployments in it (scope
-- 'repo'), plus one per period x provider (scope 'provider': org and repo '(all)') and one per
-- period (scope 'overall': provider too '(all)'): the four DORA keys and their counts, for the
-- weeks of dim_weeks and the months of dim_months (period_grain). Tiers: mart_dora_tiers.
-- A deployment counts in the period it finished in. Deployments (DF) and lead time are over
-- successful production deployments; the change failure rate is failed / (successful + failed)
-- production deployments; time to restore is over the period's failed production deployments
-- restored by the period's end. Rates per week are days x 7 / period_days.
-- Deployments found on a deployment branch are successful runs by definition, so they count in
-- DF and lead time but not in the failure rate (they would make it 0 by construction): a repo
-- that deploys only that way has no change failure rate. A repo with runs but no deployment is
-- listed with no deployments and null rates.
-- `ciwatch-etl metrics dora` runs this SQL with its window as the only period and
-- fct_deployments and fct_ci_runs narrowed to its filters: the command and the marts share
-- one definition. Medians are GROUP BY quantile_cont: production deployments are few.

with

ci_runs as (

    select * from fct_ci_runs

),

deployments as (

    select * from fct_deployments where is_production

),

runs as (

    select distinct
        provider,
        org,
        repo,
        run_date
    from ci_runs

),

weeks as (

    select * from dim_weeks

),

months as (

    select * from dim_months

),

periods as (

    select 'week' as period_grain, period_start, period_end, period_days from weeks
    union all
    select 'month' as period_grain, period_start, period_end, period_days from months

),

repos_in_periods as (

    select p.period_grain, p.period_start, r.provider, r.org, r.repo
    from periods as p
    inner join runs as r on r.run_date between p.period_start and p.period_end
    union
    select p.period_grain, p.period_start, d.provider, d.org, d.repo
    from periods as p
    inner join deployments as d on d.deploy_date between p.period_start and p.period_end

),

counted as (

    select
        p.period_grain,
        p.period_start,
        p.period_end,
        p.period_days,
        case
            when grouping(g.provider) = 1 then 'overall'
            when grouping(g.repo) = 1 then 'provider'
            else 'repo'
        end as scope,
        g.provider,
        g.org,
        g.repo,
        count(*) filter (where d.outcome = 'success') as deployments,
        count(distinct d.deploy_date) filter (where d.outcome = 'success') as deploy_days,
        quantile_cont(d.lead_time_seconds, 0.5) filter (where d.outcome = 'success') as lead_time_median_seconds,
        list(distinct d.lead_time_basis order by d.lead_time_basis) filter (where d.outcome = 'success')
            as lead_time_bases,
        count(*) filter (where d.outcome = 'failed') as failed_deployments,
        count(*) filter (where d.outcome = 'success' and d.detected_by <> 'deployment_branch')
            as failable_deployments,
        quantile_cont(d.restore_seconds, 0.5) filter (
            where d.outcome = 'failed' and d.restored_at::date <= p.period_end
        ) as restore_median_seconds,
        count(*) filter (where d.outcome = 'failed' and d.restored_at::date <= p.period_end) as restored_failures
    from periods as p
    -- from the periods, so that a period without runs or deployments still has its overall row
    left join repos_in_periods as g
        on g.period_grain = p.period_grain
        and g.period_start = p.period_start
    left join deployments as d
        on d.provider = g.provider
        and d.org is not distinct from g.org
        and d.repo = g.repo
        and d.deploy_date between p.period_start and p.period_end
    group by grouping sets (
        (p.period_grain, p.period_start, p.period_end, p.period_days, g.provider, g.org, g.repo),
        (p.period_grain, p.period_start, p.period_end, p.period_days, g.provider),
        (p.period_grain, p.period_start, p.period_end, p.period_days)
    )
    -- a period without repos would give repo and provider rows of nobody
    having grouping(g.provider) = 1 or g.provider is not null

),

final as (

    select
        -- period
        period_grain,
        period_start,
        period_end,
        period_days,

        -- grain
        scope,
        case when scope = 'overall' then '(all)' else provider end as provider,
        case when scope = 'repo' then org else '(all)' end as org,
        case when scope = 'repo' then repo else '(all)' end as repo,

        -- deployment frequency
        deployments,
        deploy_days,
        deployments * 7 / period_days as deploys_per_week,
        case when deployments + failed_deployments > 0 then deploy_days * 7 / period_days end
            as deploy_days_per_week,

        -- lead time
        lead_time_median_seconds,
        case
            when len(lead_time_bases) = 1 then lead_time_bases[1]
            when len(lead_time_bases) > 1 then 'mixed: ' || array_to_string(lead_time_bases, ', ')
        end as lead_time_basis,

        -- change failure rate
        failed_deployments,
        failable_deployments,
        failed_deployments / nullif(failable_deployments + failed_deployments, 0) as change_failure_rate,

        -- time to restore
        restore_median_seconds,
        restored_failures,
        failed_deployments - restored_failures as unrestored_failures

    from counted

)

select * from final
