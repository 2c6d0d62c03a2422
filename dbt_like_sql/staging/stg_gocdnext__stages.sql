-- One row per stage of a gocdnext run (raw.gocdnext_stages), updated in place while its run is unfinished.
-- Stages of a run run one after the other (stage_ordinal); the jobs of a stage run in parallel.
-- Stages after a failed one end as skipped, without start time. duration_seconds = finished -
-- started, null until both are known. server_host and repo as in stg_gocdnext__runs.

with

source as (

    select * from raw.gocdnext_stages

),

renamed as (

    select
        -- ids
        stage_id,
        run_id,

        -- descriptors
        'gocdnext' as provider,
        server_host,
        project_slug as repo,
        pipeline_name,
        stage_name,
        ordinal as stage_ordinal,
        job_count,

        -- status
        status as stage_status,
        coalesce(
            status in ('queued', 'running', 'success', 'failed', 'canceled', 'skipped'),
            false
        ) as is_known_status,
        coalesce(status in ('success', 'failed', 'canceled', 'skipped'), false) as is_finished,

        -- dates and timestamps (UTC)
        run_created_date,
        started_at,
        finished_at,

        -- durations
        duration_seconds,

        -- load bookkeeping
        _source_file,
        _source_row,
        _extracted_at,
        _row_hash

    from source

)

select * from renamed
