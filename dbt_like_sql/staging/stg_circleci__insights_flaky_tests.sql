-- One row per flaky-test instance Insights listed for a CircleCI project on a snapshot day.
-- Insights forgets a flaky test two weeks after its last flake, so each daily pull is kept as a
-- snapshot (snapshot_date). Flaky means it passed and failed on the same commit; flaky tests are
-- branch-agnostic. flaky_test_id is our stable hash of the instance (Insights gives no id).
-- time_wasted is the API's number as is: CircleCI does not document its unit.

with

source as (

    select * from raw.circleci_insights_flaky_tests

),

renamed as (

    select
        -- ids
        flaky_test_id,
        project_slug,
        workflow_id,

        -- descriptors
        'circleci' as provider,
        workflow_name,
        job_name,
        job_number,
        pipeline_number,
        test_name,
        classname,
        file as test_file,
        source as test_source,

        -- dates and timestamps (UTC)
        snapshot_date,
        workflow_created_at,

        -- flakes
        times_flaked,
        time_wasted,
        cast(total_flaky_tests as bigint) as project_flaky_tests,

        -- load bookkeeping
        _source_file,
        _source_row,
        _extracted_at,
        _row_hash

    from source

)

select * from renamed
