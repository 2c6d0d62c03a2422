-- One row per test in a CircleCI workflow's most-failed or slowest list, per snapshot day (Insights).
-- Insights computes these from the workflow's 10 most recent runs (all branches) and keeps no
-- history: each daily pull is a snapshot. test_list says which list the row is from
-- (most_failed or slowest; a test can be in both); list_position is its rank in that list.
-- The workflow-level counts repeat on every row of the workflow's snapshot.

with

source as (

    select * from raw.circleci_insights_test_metrics

),

renamed as (

    select
        -- ids
        test_id,
        project_slug,

        -- descriptors
        'circleci' as provider,
        workflow_name,
        job_name,
        test_name,
        classname,
        file as test_file,
        source as test_source,
        test_list,
        list_position,

        -- dates
        snapshot_date,

        -- test runs
        total_runs,
        failed_runs,
        is_flaky,

        -- durations (seconds)
        p95_duration_seconds,

        -- workflow summary
        average_test_count as workflow_average_test_count,
        total_test_runs as workflow_total_test_runs,
        most_failed_tests_extra,
        slowest_tests_extra,

        -- load bookkeeping
        _source_file,
        _source_row,
        _extracted_at,
        _row_hash

    from source

)

select * from renamed
