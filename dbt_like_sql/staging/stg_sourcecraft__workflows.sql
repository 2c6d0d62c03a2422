-- One row per workflow of a SourceCraft CI run (raw.sourcecraft_workflows): repo_id + run_slug +
-- workflow_name. Workflows of a run run side by side; the name comes from .sourcecraft/ci.yaml
-- (e.g. ci, deploy). A run lists its workflows once it is prepared, each `created` until its first
-- cube starts. Durations come from the workflow's dates and are null until it starts or ends.

with

source as (

    select * from raw.sourcecraft_workflows

),

renamed as (

    select
        -- ids
        repo_id,
        run_slug,
        workflow_id,

        -- descriptors
        'sourcecraft' as provider,
        workflow_slug as workflow_name,
        description as workflow_description,
        task_count,
        progress_percent,

        -- status
        status as workflow_status,
        coalesce(status in ('created', 'processing', 'success', 'failed', 'canceled', 'timeout'), false) as is_known_status,
        coalesce(status in ('success', 'failed', 'canceled', 'timeout'), false) as is_finished,

        -- dates, timestamps (UTC) and durations, then the load bookkeeping: every landed *_at,
        -- *_seconds and _-prefixed column, in the lake's order
        run_created_date,
        columns('_at$|_seconds$|^_')

    from source

)

select * from renamed
