-- One row per task of a SourceCraft CI workflow run (raw.sourcecraft_tasks): repo_id + run_slug +
-- workflow_name + task_name. A task starts once the tasks it needs have succeeded; when one of
-- them fails, the task ends `canceled` without starting (started_at and duration_seconds null).
-- queue_seconds therefore includes waiting for needed tasks as well as for a runner.

with

source as (

    select * from raw.sourcecraft_tasks

),

renamed as (

    select
        -- ids
        repo_id,
        run_slug,
        task_id,

        -- descriptors
        'sourcecraft' as provider,
        workflow_slug as workflow_name,
        task_slug as task_name,
        description as task_description,
        from_json(needs, '["varchar"]') as needed_tasks,
        cube_count,
        progress_percent,

        -- status
        status as task_status,
        coalesce(status in ('created', 'processing', 'success', 'failed', 'canceled', 'timeout'), false) as is_known_status,
        coalesce(status in ('success', 'failed', 'canceled', 'timeout'), false) as is_finished,

        -- dates, timestamps (UTC) and durations, then the load bookkeeping: every landed *_at,
        -- *_seconds and _-prefixed column, in the lake's order
        run_created_date,
        columns('_at$|_seconds$|^_')

    from source

)

select * from renamed
