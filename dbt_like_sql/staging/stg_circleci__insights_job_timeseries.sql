-- One row per CircleCI project x workflow x job x UTC day: Insights' daily job time series.
-- The endpoint covers the project's default branch only (it has no all-branches option).
-- Kept after Insights forgets the day (90 days for daily series); a day pulled while still under
-- way is updated by the next pull. Durations are seconds; credits are Insights' estimate.

with

source as (

    select * from raw.circleci_insights_job_timeseries

),

renamed as (

    select
        -- grain
        project_slug,
        workflow_name,
        job_name,
        interval_date,

        -- descriptors
        'circleci' as provider,
        granularity,

        -- timestamps (UTC)
        interval_start_at,
        min_started_at as first_started_at,
        max_ended_at as last_ended_at,

        -- runs
        total_runs,
        successful_runs,
        failed_runs,
        throughput as runs_per_day,

        -- durations (seconds)
        duration_min_seconds,
        duration_median_seconds,
        duration_p95_seconds,
        duration_max_seconds,
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
