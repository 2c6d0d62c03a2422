-- One row per CircleCI workflow run (raw.circleci_workflows, from GET /pipeline/{id}/workflow).
-- A re-run is a new workflow_id in the same pipeline. A run that was still going at a pull is
-- fetched again until it finishes; until then is_finished = false and stopped_at is null.
-- duration_seconds is from creation to stop (it includes queueing and approvals).

with

source as (

    select * from raw.circleci_workflows

),

renamed as (

    select
        -- ids
        workflow_id,
        pipeline_id,
        project_slug,
        started_by as started_by_user_id,
        canceled_by as canceled_by_user_id,
        errored_by as errored_by_user_id,

        -- descriptors
        'circleci' as provider,
        workflow_name,
        pipeline_number,
        tag as workflow_tag,
        auto_rerun_number,
        max_auto_reruns,

        -- status
        status as workflow_status,
        coalesce(
            status in ('success', 'running', 'not_run', 'failed', 'error', 'failing', 'on_hold', 'canceled', 'unauthorized'),
            false
        ) as is_known_status,
        coalesce(status not in ('running', 'failing', 'on_hold'), false) as is_finished,

        -- dates and timestamps (UTC)
        created_at,
        created_date,
        stopped_at,

        -- durations
        date_diff('millisecond', created_at, stopped_at) / 1000.0 as duration_seconds,

        -- load bookkeeping
        _source_file,
        _source_row,
        _extracted_at,
        _row_hash

    from source

)

select * from renamed
