-- One row per UTC day x provider x org x repo x workflow x branch: how many runs, how reliable
-- and how fast (fct_ci_runs). success_rate = successful / completed runs (success, failed,
-- timeout); durations are over completed runs, queue times over runs that report one, both as
-- DuckDB's quantile_cont (linear interpolation). The percentiles are window aggregates over each
-- group, not a GROUP BY's: a GROUP BY holds every group's values in memory at once (a year of
-- runs does not fit in the build's memory), a window takes the groups one at a time off a sort
-- that spills to disk. A null org or branch is labelled '(none)'.
-- Percentiles of a longer period cannot be added up from days: `ciwatch-etl metrics performance`
-- computes them from fct_ci_runs for its window.

with

ci_runs as (

    select * from fct_ci_runs

),

runs as (

    select
        run_date,
        provider,
        coalesce(org, '(none)') as org,
        repo,
        workflow_name,
        coalesce(branch, '(none)') as branch,
        is_default_branch,
        status,
        is_completed,
        is_successful,
        case when is_completed then duration_seconds end as completed_duration_seconds,
        queue_seconds
    from ci_runs

),

percentiles as (

    select
        *,
        quantile_cont(completed_duration_seconds, 0.5) over grain as duration_p50_seconds,
        quantile_cont(completed_duration_seconds, 0.95) over grain as duration_p95_seconds,
        quantile_cont(queue_seconds, 0.5) over grain as queue_p50_seconds,
        quantile_cont(queue_seconds, 0.95) over grain as queue_p95_seconds
    from runs
    window grain as (partition by run_date, provider, org, repo, workflow_name, branch)

),

final as (

    select
        -- grain
        run_date,
        provider,
        org,
        repo,
        workflow_name,
        branch,
        bool_or(is_default_branch) as is_default_branch,

        -- runs
        count(*) as runs,
        count_if(is_completed) as completed_runs,
        count_if(is_successful) as successful_runs,
        count_if(status in ('failed', 'timeout')) as failed_runs,
        count_if(status = 'canceled') as canceled_runs,
        count_if(is_successful) / nullif(count_if(is_completed), 0) as success_rate,

        -- durations (completed runs)
        any_value(duration_p50_seconds) as duration_p50_seconds,
        any_value(duration_p95_seconds) as duration_p95_seconds,
        max(completed_duration_seconds) as duration_max_seconds,
        sum(completed_duration_seconds) as duration_total_seconds,

        -- queue
        any_value(queue_p50_seconds) as queue_p50_seconds,
        any_value(queue_p95_seconds) as queue_p95_seconds

    from percentiles
    group by
        run_date,
        provider,
        org,
        repo,
        workflow_name,
        branch

)

select * from final
