-- One row per UTC day x provider x org x repo x workflow x branch: how many runs, how reliable
-- and how fast (fct_ci_runs). success_rate = successful / completed runs (success, failed,
-- timeout); durations are over completed runs, queue times over runs that report one, both as
-- DuckDB's quantile_cont (linear interpolation). A null org or branch is labelled '(none)'.
-- Percentiles of a longer period cannot be added up from days: `ciwatch-etl metrics performance`
-- computes them from fct_ci_runs for its window.

with

runs as (

    select * from fct_ci_runs

),

final as (

    select
        -- grain
        run_date,
        provider,
        coalesce(org, '(none)') as org,
        repo,
        workflow_name,
        coalesce(branch, '(none)') as branch,
        bool_or(is_default_branch) as is_default_branch,

        -- runs
        count(*) as runs,
        count_if(is_completed) as completed_runs,
        count_if(is_successful) as successful_runs,
        count_if(status in ('failed', 'timeout')) as failed_runs,
        count_if(status = 'canceled') as canceled_runs,
        count_if(is_successful) / nullif(count_if(is_completed), 0) as success_rate,

        -- durations (completed runs)
        quantile_cont(duration_seconds, 0.5) filter (where is_completed) as duration_p50_seconds,
        quantile_cont(duration_seconds, 0.95) filter (where is_completed) as duration_p95_seconds,
        max(duration_seconds) filter (where is_completed) as duration_max_seconds,
        sum(duration_seconds) filter (where is_completed) as duration_total_seconds,

        -- queue
        quantile_cont(queue_seconds, 0.5) as queue_p50_seconds,
        quantile_cont(queue_seconds, 0.95) as queue_p95_seconds

    from runs
    group by
        run_date,
        provider,
        coalesce(org, '(none)'),
        repo,
        workflow_name,
        coalesce(branch, '(none)')

)

select * from final
