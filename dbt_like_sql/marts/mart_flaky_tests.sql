-- One row per CircleCI flaky test (project x workflow x job x class x test), as Insights listed
-- it in the latest snapshot that has it: how often it flaked and the time it wasted there (Insights
-- counts a test as flaky until 14 days pass without a flake), when it last flaked, and the first
-- and last snapshot days that listed it. Only CircleCI Insights reports flaky tests.
-- time_wasted_seconds is Insights' time_wasted, whose unit the API does not document: seconds
-- of the failed job runs, as the simulator and the UI show it.

with

flakes as (

    select * from stg_circleci__insights_flaky_tests

),

per_snapshot as (

    select
        project_slug,
        workflow_name,
        job_name,
        coalesce(classname, '') as classname,
        test_name,
        snapshot_date,
        max(times_flaked) as times_flaked,
        max(time_wasted) as time_wasted_seconds,
        max(workflow_created_at) as last_flaked_at
    from flakes
    group by
        project_slug,
        workflow_name,
        job_name,
        coalesce(classname, ''),
        test_name,
        snapshot_date

),

final as (

    select
        -- grain
        'circleci' as provider,
        split_part(project_slug, '/', 2) as org,
        split_part(project_slug, '/', 3) as repo,
        project_slug,
        workflow_name,
        job_name,
        classname,
        test_name,

        -- latest listing
        arg_max(times_flaked, snapshot_date) as times_flaked,
        arg_max(time_wasted_seconds, snapshot_date) as time_wasted_seconds,
        max(last_flaked_at) as last_flaked_at,

        -- snapshots
        min(snapshot_date) as first_listed_on,
        max(snapshot_date) as last_listed_on

    from per_snapshot
    group by
        project_slug,
        workflow_name,
        job_name,
        classname,
        test_name

)

select * from final
