-- One row per calendar week (dim_weeks) x provider x org x repo x workflow with runs created in
-- it (scope 'workflow'), plus one per week over all its runs (scope 'overall': provider, org, repo
-- and workflow_name '(all)'): how many runs, how reliable and how fast (fct_ci_runs).
-- success_rate = successful / completed runs (success, failed, timeout); durations are over
-- completed runs, queue times over runs that report one, both DuckDB's quantile_cont over the
-- week's runs (never an average of daily percentiles). The percentiles are window aggregates
-- over each group, not a GROUP BY's: a GROUP BY holds every group's values in memory at once (a
-- year of runs does not fit in the build's memory), a window takes the groups one at a time off
-- a sort that spills to disk. A week without runs has its overall row, with no runs.
-- `ciwatch-etl metrics performance` computes these figures for its window and the period before
-- it as GROUP BY aggregates, which two periods' runs fit (ciwatch_etl/metrics/run_figures.py);
-- tests/models/test_run_figures.py holds the two to the same rows.

with

ci_runs as (

    select * from fct_ci_runs

),

weeks as (

    select * from dim_weeks

),

runs as (

    select
        run_id,
        run_date,
        provider,
        org,
        repo,
        workflow_name,
        status,
        is_completed,
        is_successful,
        case when is_completed then duration_seconds end as completed_duration_seconds,
        queue_seconds
    from ci_runs

),

runs_in_weeks as (

    -- from the weeks, so that a week without runs still has its overall row
    select
        w.period_start,
        w.period_end,
        w.period_days,
        r.*
    from weeks as w
    left join runs as r on r.run_date between w.period_start and w.period_end

),

percentiles as (

    select
        *,
        quantile_cont(completed_duration_seconds, 0.5) over workflow as workflow_duration_p50_seconds,
        quantile_cont(completed_duration_seconds, 0.95) over workflow as workflow_duration_p95_seconds,
        quantile_cont(queue_seconds, 0.5) over workflow as workflow_queue_p50_seconds,
        quantile_cont(queue_seconds, 0.95) over workflow as workflow_queue_p95_seconds,
        quantile_cont(completed_duration_seconds, 0.5) over week as week_duration_p50_seconds,
        quantile_cont(completed_duration_seconds, 0.95) over week as week_duration_p95_seconds,
        quantile_cont(queue_seconds, 0.5) over week as week_queue_p50_seconds,
        quantile_cont(queue_seconds, 0.95) over week as week_queue_p95_seconds
    from runs_in_weeks
    window
        workflow as (partition by period_start, provider, org, repo, workflow_name),
        week as (partition by period_start)

),

grouped as (

    select
        period_start,
        period_end,
        period_days,
        grouping(provider) = 1 as is_overall,
        provider,
        org,
        repo,
        workflow_name,
        count(run_id) as runs,
        count_if(is_completed) as completed_runs,
        count_if(is_successful) as successful_runs,
        count_if(status in ('failed', 'timeout')) as failed_runs,
        count_if(status = 'canceled') as canceled_runs,
        max(completed_duration_seconds) as duration_max_seconds,
        sum(completed_duration_seconds) as duration_total_seconds,
        any_value(workflow_duration_p50_seconds) as workflow_duration_p50_seconds,
        any_value(workflow_duration_p95_seconds) as workflow_duration_p95_seconds,
        any_value(workflow_queue_p50_seconds) as workflow_queue_p50_seconds,
        any_value(workflow_queue_p95_seconds) as workflow_queue_p95_seconds,
        any_value(week_duration_p50_seconds) as week_duration_p50_seconds,
        any_value(week_duration_p95_seconds) as week_duration_p95_seconds,
        any_value(week_queue_p50_seconds) as week_queue_p50_seconds,
        any_value(week_queue_p95_seconds) as week_queue_p95_seconds
    from percentiles
    group by grouping sets (
        (period_start, period_end, period_days, provider, org, repo, workflow_name),
        (period_start, period_end, period_days)
    )
    -- a week without runs would give a workflow row of nobody
    having grouping(provider) = 1 or provider is not null

),

final as (

    select
        -- period
        period_start,
        period_end,
        period_days,

        -- grain
        case when is_overall then 'overall' else 'workflow' end as scope,
        case when is_overall then '(all)' else provider end as provider,
        case when is_overall then '(all)' else org end as org,
        case when is_overall then '(all)' else repo end as repo,
        case when is_overall then '(all)' else workflow_name end as workflow_name,

        -- runs
        runs,
        completed_runs,
        successful_runs,
        failed_runs,
        canceled_runs,
        successful_runs / nullif(completed_runs, 0) as success_rate,

        -- durations (completed runs)
        case when is_overall then week_duration_p50_seconds else workflow_duration_p50_seconds end
            as duration_p50_seconds,
        case when is_overall then week_duration_p95_seconds else workflow_duration_p95_seconds end
            as duration_p95_seconds,
        duration_max_seconds,
        duration_total_seconds,

        -- queue
        case when is_overall then week_queue_p50_seconds else workflow_queue_p50_seconds end
            as queue_p50_seconds,
        case when is_overall then week_queue_p95_seconds else workflow_queue_p95_seconds end
            as queue_p95_seconds

    from grouped

)

select * from final
