-- One row per SourceCraft CI run (raw.sourcecraft_runs), identified by repo_id + run_slug.
-- The API gives no branch, commit or durations: durations come from the run's dates
-- (duration_seconds = finished - started, queue_seconds = started - created) and are null until
-- the run has started or finished. run_id is mostly null: SourceCraft CI entities have no public
-- ids yet. A restart is a new run (event_type 'restart') with its own slug. Statuses outside the
-- documented enum are kept and flagged (is_known_status = false), never dropped.

with

source as (

    select * from raw.sourcecraft_runs

),

renamed as (

    select
        -- ids
        repo_id,
        run_slug,
        run_id,
        user_id as trigger_user_id,
        pull_request_id,

        -- descriptors
        'sourcecraft' as provider,
        run_number,
        event_type,
        coalesce(event_type = 'restart', false) as is_restart,
        user_slug as trigger_user_slug,
        pull_request_slug,
        workflow_count,
        from_json(error_messages, '["varchar"]') as error_messages,

        -- status
        status as run_status,
        coalesce(
            status in ('created', 'prepared', 'processing', 'success', 'failed', 'canceled', 'timeout'),
            false
        ) as is_known_status,
        coalesce(status in ('success', 'failed', 'canceled', 'timeout'), false) as is_finished,

        -- dates, timestamps (UTC) and durations, then the load bookkeeping: every landed *_at,
        -- *_seconds and _-prefixed column, in the lake's order
        created_date,
        columns('_at$|_seconds$|^_')

    from source

)

select * from renamed
