-- One row per cube (step) of a SourceCraft CI task run (raw.sourcecraft_cubes): repo_id + run_slug
-- + workflow_name + task_name + cube_name. Cubes of a task run one after another; after a cube
-- fails or times out, the rest end `canceled` without starting (started_at and duration_seconds
-- null). Artifacts are counted, not listed: their download links are temporary.

with

source as (

    select * from raw.sourcecraft_cubes

),

renamed as (

    select
        -- ids
        repo_id,
        run_slug,
        cube_id,

        -- descriptors
        'sourcecraft' as provider,
        workflow_slug as workflow_name,
        task_slug as task_name,
        cube_slug as cube_name,
        from_json(needs, '["varchar"]') as needed_cubes,
        artifact_count,

        -- status
        status as cube_status,
        coalesce(status in ('created', 'processing', 'success', 'failed', 'canceled', 'timeout'), false) as is_known_status,
        coalesce(status in ('success', 'failed', 'canceled', 'timeout'), false) as is_finished,
        started_at is not null as has_started,

        -- dates, timestamps (UTC) and durations, then the load bookkeeping: every landed *_at,
        -- *_seconds and _-prefixed column, in the lake's order
        run_created_date,
        columns('_at$|_seconds$|^_')

    from source

)

select * from renamed
