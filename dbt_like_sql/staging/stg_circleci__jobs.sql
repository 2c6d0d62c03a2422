-- One row per CircleCI job of a workflow run (raw.circleci_jobs: the workflow's job list plus
-- the job's own details). Approval jobs have no job_number and no details. The details give the
-- queue time, resource class and CircleCI's duration in milliseconds (duration_ms; also as
-- duration_seconds); run_seconds is stopped_at - started_at. Jobs of a workflow still going at
-- a pull are fetched again until it finishes.

with

source as (

    select * from raw.circleci_jobs

),

known_job_statuses as (

    -- CircleCI's documented job statuses: the ones the status map seed maps
    select source_status from raw.ci_status_map where provider = 'circleci' and status_level = 'job'

),

renamed as (

    select
        -- ids
        job_id,
        workflow_id,
        pipeline_id,
        project_slug,
        project_id,
        approval_request_id,
        approved_by as approved_by_user_id,
        canceled_by as canceled_by_user_id,

        -- descriptors
        'circleci' as provider,
        organization_name as org_name,
        job_number,
        job_name,
        type as job_type,
        resource_class,
        executor_type,
        parallelism,
        web_url,
        json_array_length(dependencies_json) as dependency_count,
        dependencies_json,
        requires_json,
        contexts_json,
        messages_json,
        parallel_runs_json,

        -- status
        status as job_status,
        coalesce(status in (select source_status from known_job_statuses), false) as is_known_job_status,

        -- dates and timestamps (UTC)
        workflow_created_date,
        created_at,
        queued_at,
        started_at,
        stopped_at,

        -- durations
        date_diff('millisecond', queued_at, started_at) / 1000.0 as queue_seconds,
        date_diff('millisecond', started_at, stopped_at) / 1000.0 as run_seconds,
        duration_ms,
        duration_seconds,

        -- load bookkeeping
        _source_file,
        _source_row,
        _extracted_at,
        _row_hash

    from source

)

select * from renamed
