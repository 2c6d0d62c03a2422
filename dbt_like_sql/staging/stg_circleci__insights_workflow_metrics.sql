-- One row per CircleCI project x workflow x reporting window x snapshot day: Insights summary metrics.
-- Insights answers "the last N days as of today" and keeps no history of its answers: each daily
-- pull is kept as a snapshot (snapshot_date, the UTC day of the pull), so trends survive.
-- All branches combined. Durations are seconds; credits are Insights' estimate, not billing-grade.
-- Metrics are refreshed daily by CircleCI and may miss the last 24 hours.

with

source as (

    select * from raw.circleci_insights_workflow_metrics

),

renamed as (

    select
        -- grain
        project_slug,
        workflow_name,
        reporting_window,
        snapshot_date,

        -- ids and descriptors
        project_id,
        'circleci' as provider,

        -- window (UTC)
        window_start_at,
        window_end_at,

        -- runs
        total_runs,
        successful_runs,
        failed_runs,
        success_rate,
        throughput as runs_per_day,
        total_recoveries,

        -- durations (seconds)
        mttr_seconds,
        duration_min_seconds,
        duration_mean_seconds,
        duration_median_seconds,
        duration_p95_seconds,
        duration_max_seconds,
        duration_standard_deviation_seconds,
        duration_total_seconds,

        -- credits (Insights' estimate)
        total_credits_used as total_insights_credits,
        median_credits_used as median_insights_credits,

        -- load bookkeeping
        _source_file,
        _source_row,
        _extracted_at,
        _row_hash

    from source

)

select * from renamed
