-- One row per gocdnext pipeline run (raw.gocdnext_runs), updated in place while it is unfinished.
-- server_host is the host name of the gocdnext server (GOCDNEXT_URL) and repo the project slug:
-- gocdnext has no organizations, a server is one (int_ci_runs names it by stg_gocdnext__projects'
-- server_name). The API returns no durations: duration_seconds = finished -
-- started and queue_seconds = started - created, null until the run has those times.
-- branch and commit_sha come from the run's material revisions: the first material with a branch,
-- else the first whose revision is a commit (upstream materials carry a run id, not a commit);
-- tag runs have no branch. run_status is kept as sent; statuses outside gocdnext's enum are
-- flagged (is_known_status = false), never dropped.

with

source as (

    select * from raw.gocdnext_runs

),

known_statuses as (

    -- gocdnext's run statuses: the ones the status map seed maps
    select source_status from raw.ci_status_map where provider = 'gocdnext' and status_level = 'run'

),

renamed as (

    select
        -- ids
        run_id,
        project_id,
        pipeline_id,
        superseded_by as superseded_by_run_id,

        -- descriptors
        'gocdnext' as provider,
        server_host,
        project_slug as repo,
        project_name,
        pipeline_name,
        counter as run_number,
        cause as trigger_cause,
        triggered_by,
        branch,
        revision as commit_sha,
        has_services,
        service_names,
        check_reporting_mode,
        queue_reason,
        cancel_reason,
        revisions as revisions_json,
        cause_detail as cause_detail_json,
        stage_count,
        job_count,

        -- status
        status as run_status,
        coalesce(status in (select source_status from known_statuses), false) as is_known_status,
        coalesce(status in ('success', 'failed', 'canceled', 'skipped'), false) as is_finished,
        superseded_by is not null as is_superseded,

        -- dates and timestamps (UTC)
        created_date,
        created_at,
        started_at,
        finished_at,

        -- durations
        duration_seconds,
        queue_seconds,

        -- load bookkeeping
        _source_file,
        _source_row,
        _extracted_at,
        _row_hash

    from source

)

select * from renamed
