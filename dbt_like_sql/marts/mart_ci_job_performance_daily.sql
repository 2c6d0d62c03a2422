-- One row per UTC day x provider x org x repo x workflow x job x branch: job runs, success rate
-- and durations (fct_ci_jobs), as mart_ci_performance_daily has them for runs: completed jobs
-- (success, failed, timeout) for rates and durations, quantile_cont for percentiles.

with

jobs as (

    select * from fct_ci_jobs where job_date is not null

),

final as (

    select
        -- grain
        job_date,
        provider,
        coalesce(org, '(none)') as org,
        coalesce(repo, '(none)') as repo,
        coalesce(workflow_name, '(none)') as workflow_name,
        job_name,
        coalesce(branch, '(none)') as branch,

        -- runs
        count(*) as job_runs,
        count_if(is_completed) as completed_job_runs,
        count_if(is_successful) as successful_job_runs,
        count_if(is_successful) / nullif(count_if(is_completed), 0) as success_rate,

        -- durations (completed jobs)
        quantile_cont(duration_seconds, 0.5) filter (where is_completed) as duration_p50_seconds,
        quantile_cont(duration_seconds, 0.95) filter (where is_completed) as duration_p95_seconds,
        max(duration_seconds) filter (where is_completed) as duration_max_seconds,

        -- queue
        quantile_cont(queue_seconds, 0.5) as queue_p50_seconds,
        quantile_cont(queue_seconds, 0.95) as queue_p95_seconds

    from jobs
    group by
        job_date,
        provider,
        coalesce(org, '(none)'),
        coalesce(repo, '(none)'),
        coalesce(workflow_name, '(none)'),
        job_name,
        coalesce(branch, '(none)')

)

select * from final
