-- One row per job of a gocdnext run (raw.gocdnext_jobs), showing its latest attempt.
-- A re-tried job keeps its id: attempt counts the re-tries (0 = first try, is_retried when > 0),
-- and started_at, finished_at, exit_code and duration_seconds are those of the latest attempt,
-- so time spent on failed attempts is not in duration_seconds. A job behind an approval gate is
-- awaiting_approval until someone decides (approval_decision approved or rejected).
-- Matrix jobs are one row per matrix_key. exit_code is null until the job ends, and for jobs
-- canceled or skipped before they ran. server_host and repo as in stg_gocdnext__runs.

with

source as (

    select * from raw.gocdnext_jobs

),

known_statuses as (

    -- gocdnext's job statuses: the ones the status map seed maps
    select source_status from raw.ci_status_map where provider = 'gocdnext' and status_level = 'job'

),

renamed as (

    select
        -- ids
        job_id,
        stage_id,
        run_id,
        agent_id,

        -- descriptors
        'gocdnext' as provider,
        server_host,
        project_slug as repo,
        pipeline_name,
        stage_name,
        job_name,
        matrix_key,
        image,
        attempt,
        attempt > 0 as is_retried,
        exit_code,
        error as error_message,

        -- status
        status as job_status,
        coalesce(status in (select source_status from known_statuses), false) as is_known_status,
        coalesce(status in ('success', 'failed', 'canceled', 'skipped'), false) as is_finished,

        -- approval gate
        is_approval_gate,
        approval_decision,
        approval_decided_by,

        -- dates and timestamps (UTC)
        run_created_date,
        started_at,
        finished_at,
        cancel_requested_at,
        awaiting_since as approval_requested_at,
        approval_decided_at,

        -- durations
        duration_seconds,
        date_diff('millisecond', awaiting_since, approval_decided_at) / 1000.0 as approval_wait_seconds,

        -- load bookkeeping
        _source_file,
        _source_row,
        _extracted_at,
        _row_hash

    from source

)

select * from renamed
