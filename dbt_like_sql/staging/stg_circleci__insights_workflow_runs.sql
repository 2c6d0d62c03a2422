-- One row per CircleCI workflow run as Insights reported it (raw.circleci_insights_workflow_runs, all branches).
-- Kept after Insights forgets it (it keeps 90 days). workflow_id is the id the pipeline endpoints
-- and the usage export give the same run. insights_credits is Insights' estimate, which CircleCI
-- says is not billing-grade (compare mart_credit_reconciliation); duration_seconds is Insights' own.
-- Insights lists finished runs only: a run in progress at a pull appears at a later one.

with

source as (

    select * from raw.circleci_insights_workflow_runs

),

renamed as (

    select
        -- ids
        workflow_id,
        project_slug,

        -- descriptors
        'circleci' as provider,
        workflow_name,
        branch,

        -- status
        status as workflow_status,
        coalesce(status in ('success', 'failed', 'error', 'canceled', 'unauthorized'), false) as is_known_status,
        is_approval,

        -- dates and timestamps (UTC)
        created_at,
        created_date,
        stopped_at,

        -- durations
        duration_seconds,

        -- credits (Insights' estimate)
        credits_used as insights_credits,

        -- load bookkeeping
        _source_file,
        _source_row,
        _extracted_at,
        _row_hash

    from source

)

select * from renamed
