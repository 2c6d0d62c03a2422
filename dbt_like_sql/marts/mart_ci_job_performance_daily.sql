-- One row per UTC day x provider x org x repo x workflow x job x branch: job runs, success rate
-- and durations (fct_ci_jobs), as mart_ci_performance_daily has them for runs: completed jobs
-- (success, failed, timeout) for rates and durations, quantile_cont for percentiles (as window
-- aggregates over each group, for the reason given there).

with

ci_jobs as (

    select * from fct_ci_jobs

),

jobs as (

    select
        job_date,
        provider,
        coalesce(org, '(none)') as org,
        coalesce(repo, '(none)') as repo,
        coalesce(workflow_name, '(none)') as workflow_name,
        job_name,
        coalesce(branch, '(none)') as branch,
        is_completed,
        is_successful,
        case when is_completed then duration_seconds end as completed_duration_seconds,
        queue_seconds
    from ci_jobs
    where job_date is not null

),

percentiles as (

    select
        *,
        quantile_cont(completed_duration_seconds, 0.5) over grain as duration_p50_seconds,
        quantile_cont(completed_duration_seconds, 0.95) over grain as duration_p95_seconds,
        quantile_cont(queue_seconds, 0.5) over grain as queue_p50_seconds,
        quantile_cont(queue_seconds, 0.95) over grain as queue_p95_seconds
    from jobs
    window grain as (partition by job_date, provider, org, repo, workflow_name, job_name, branch)

),

final as (

    select
        job_date,
        provider,
        org,
        repo,
        workflow_name,
        job_name,
        branch,
        count(*) as job_runs,
        count_if(is_completed) as completed_job_runs,
        count_if(is_successful) as successful_job_runs,
        count_if(is_successful) / nullif(count_if(is_completed), 0) as success_rate,
        any_value(duration_p50_seconds) as duration_p50_seconds,
        any_value(duration_p95_seconds) as duration_p95_seconds,
        max(completed_duration_seconds) as duration_max_seconds,
        any_value(queue_p50_seconds) as queue_p50_seconds,
        any_value(queue_p95_seconds) as queue_p95_seconds
    from percentiles
    group by
        job_date,
        provider,
        org,
        repo,
        workflow_name,
        job_name,
        branch

)

select * from final
