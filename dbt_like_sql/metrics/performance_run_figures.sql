-- `metrics performance`'s run figures: one row per period (the window, and the period of the
-- same length before it) and scope ('overall', else 'workflow' per provider, org, repo and
-- workflow_name), busiest first. The definitions are mart_ci_performance_weekly's, with the two
-- periods in place of the weeks (see ciwatch_etl/metrics/run_figures.py for why a GROUP BY here).

with

periods as (

    select * from (values
        ($previous_first_day::date, $previous_last_day::date),
        ($first_day::date, $last_day::date)
    ) as periods(period_start, period_end)

),

runs as (

    select
        run_id,
        run_date,
        provider,
        org,
        repo,
        workflow_name,
        is_completed,
        is_successful,
        case when is_completed then duration_seconds end as completed_duration_seconds,
        queue_seconds
    from fct_ci_runs
    where run_date between $previous_first_day and $last_day
        and ($provider is null or provider = $provider)
        and ($org is null or org = $org)
        and ($repo is null or repo = $repo)

),

runs_in_periods as (

    -- from the periods, so that a period without runs still has its overall row
    select
        p.period_start,
        r.*
    from periods as p
    left join runs as r on r.run_date between p.period_start and p.period_end

),

grouped as (

    select
        period_start,
        grouping(provider) = 1 as is_overall,
        provider,
        org,
        repo,
        workflow_name,
        count(run_id) as runs,
        count_if(is_completed) as completed_runs,
        count_if(is_successful) as successful_runs,
        -- one sorted copy of each group's values serves both percentiles
        quantile_cont(completed_duration_seconds, [0.5, 0.95]) as duration_percentiles,
        max(completed_duration_seconds) as duration_max_seconds,
        quantile_cont(queue_seconds, [0.5, 0.95]) as queue_percentiles
    from runs_in_periods
    group by grouping sets (
        (period_start, provider, org, repo, workflow_name),
        (period_start)
    )
    -- a period without runs would give a workflow row of nobody
    having grouping(provider) = 1 or provider is not null

),

final as (

    select
        -- period
        period_start,

        -- grain
        case when is_overall then 'overall' else 'workflow' end as scope,
        case when is_overall then '(all)' else provider end as provider,
        case when is_overall then '(all)' else org end as org,
        case when is_overall then '(all)' else repo end as repo,
        case when is_overall then '(all)' else workflow_name end as workflow_name,

        -- runs
        runs,
        successful_runs / nullif(completed_runs, 0) as success_rate,

        -- durations (completed runs)
        duration_percentiles[1] as duration_p50_seconds,
        duration_percentiles[2] as duration_p95_seconds,
        duration_max_seconds,

        -- queue
        queue_percentiles[1] as queue_p50_seconds,
        queue_percentiles[2] as queue_p95_seconds

    from grouped

)

select * from final
order by runs desc, provider, org, repo, workflow_name
