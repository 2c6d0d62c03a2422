-- One row per CircleCI project x workflow x job x reporting window x snapshot day: Insights job metrics.
-- Kept as daily snapshots (snapshot_date, the UTC day of the pull), like the workflow metrics.
-- All branches combined. Durations are seconds; credits are Insights' estimate, not billing-grade.

with

source as (

    select * from raw.circleci_insights_job_metrics

),

renamed as (

    select
        -- grain
        project_slug,
        workflow_name,
        job_name,
        reporting_window,
        snapshot_date,

        -- descriptors
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

        -- durations (seconds)
        duration_min_seconds,
        duration_mean_seconds,
        duration_median_seconds,
        duration_p95_seconds,
        duration_max_seconds,
        duration_standard_deviation_seconds,

        -- credits (Insights' estimate)
        total_credits_used as total_insights_credits,

        -- load bookkeeping
        _source_file,
        _source_row,
        _extracted_at,
        _row_hash

    from source

)

select * from renamed
