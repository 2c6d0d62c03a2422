-- One row per calendar month x CircleCI job (org, repo, workflow, job) x executor x resource class
-- that was over-provisioned that month (int_job_resource_classes_evaluated): average and max CPU
-- and RAM under 40% over at least 10 runs, so the next smaller class of its family is suggested.
-- savable_credits is what the smaller class would have saved that month: the compute credits
-- outside other waste categories x (1 - smaller rate / current rate), the same amounts as the
-- month's overprovisioned rows of mart_credit_waste. savable_credits_per_30_days scales it by the
-- days of the month the usage export covers, so a month still running compares with a whole one.
-- It assumes jobs take as long on the smaller class (they used under 40% of this one).

with

classified_jobs as not materialized (

    -- read twice below: inlined, as a materialized copy would hold all its rows
    select * from int_job_runs_classified

),

evaluated as (

    select * from int_job_resource_classes_evaluated where is_overprovisioned

),

settings as (

    select * from raw.settings

),

covered_days as (

    -- int_job_runs_classified has the rows of int_job_runs_priced (one per priced job run), stored:
    -- two of its columns read from Parquet instead of a year of the view computed over the lake
    select
        date_trunc('month', usage_date)::date as usage_month,
        count(distinct usage_date) as days_covered
    from classified_jobs
    where provider = 'circleci'
    group by date_trunc('month', usage_date)::date

),

savings as (

    select
        date_trunc('month', usage_date)::date as usage_month,
        org,
        repo,
        workflow_name,
        job_name,
        executor,
        resource_class,
        sum(overprovisioned_savable_credits) as savable_credits
    from classified_jobs
    where overprovisioned_savable_credits > 0
    group by
        date_trunc('month', usage_date)::date,
        org,
        repo,
        workflow_name,
        job_name,
        executor,
        resource_class

),

final as (

    select
        -- grain
        e.usage_month,
        e.provider,
        e.org,
        e.repo,
        e.workflow_name,
        e.job_name,
        e.executor,
        e.resource_class,

        -- the recommendation
        e.suggested_resource_class,
        e.credits_per_minute,
        e.suggested_credits_per_minute,

        -- evidence
        e.job_runs,
        e.measured_job_runs,
        e.avg_cpu_pct,
        e.max_cpu_pct,
        e.avg_ram_pct,
        e.max_ram_pct,

        -- credits
        e.compute_credits,
        coalesce(s.savable_credits, 0) as savable_credits,
        coalesce(s.savable_credits, 0) * settings.credit_price_usd as savable_usd,
        d.days_covered,
        coalesce(s.savable_credits, 0) / d.days_covered * 30 as savable_credits_per_30_days,
        coalesce(s.savable_credits, 0) / d.days_covered * 30 * settings.credit_price_usd as savable_usd_per_30_days

    from evaluated as e
    cross join settings
    inner join covered_days as d on d.usage_month = e.usage_month
    left join savings as s
        on s.usage_month = e.usage_month
        and s.org is not distinct from e.org
        and s.repo is not distinct from e.repo
        and s.workflow_name is not distinct from e.workflow_name
        and s.job_name is not distinct from e.job_name
        and s.executor is not distinct from e.executor
        and s.resource_class is not distinct from e.resource_class

)

select * from final
