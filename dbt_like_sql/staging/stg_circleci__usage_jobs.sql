-- One row per CircleCI job run, as billed in the usage export (raw.circleci_usage_jobs).
-- A re-run is a new job_id with its own credits; re-running a pipeline keeps its pipeline_id.
-- Statuses outside CircleCI's documented job enum are kept and flagged (is_known_job_status = false),
-- never dropped. queue_seconds is null when the queued or started time is missing.
-- Utilisation percentages are null for jobs shorter than about 15 seconds (sampled every 15 s).
-- project_slug names the project as the other CircleCI APIs do: gh/<owner>/<repo> or
-- bb/<owner>/<repo> from the VCS URL (stg_circleci__usage_projects), else
-- circleci/<org_id>/<project_id> (or project name).

with

source as (

    select * from raw.circleci_usage_jobs

),

vcs_projects as (

    select * from stg_circleci__usage_projects

),

renamed as (

    select
        -- ids
        job_id,
        organization_id as org_id,
        project_id,
        pipeline_id,
        workflow_id,
        pipeline_trigger_user_id as trigger_user_id,

        -- descriptors
        'circleci' as provider,
        organization_name as org_name,
        project_name,
        vcs_name,
        vcs_url,
        coalesce(vcs_projects.vcs_project_slug, 'circleci/' || organization_id || '/' || coalesce(project_id, project_name))
            as project_slug,
        vcs_branch as branch,
        pipeline_number,
        pipeline_trigger_source as trigger_source,
        workflow_name,
        job_name,
        job_run_number,
        resource_class,
        operating_system,
        executor,
        parallelism,

        -- status
        job_build_status as job_status,
        coalesce(
            job_build_status in (
                'success', 'running', 'not_run', 'failed', 'retried', 'queued', 'not_running',
                'infrastructure_fail', 'timedout', 'on_hold', 'terminated-unknown', 'blocked',
                'canceled', 'unauthorized'
            ),
            false
        ) as is_known_job_status,
        is_workflow_successful,
        is_unregistered_user,

        -- dates and timestamps (UTC)
        organization_created_date as org_created_date,
        project_created_date,
        last_build_finished_at as project_last_build_finished_at,
        pipeline_created_at,
        workflow_first_job_queued_at as workflow_queued_at,
        workflow_first_job_started_at as workflow_started_at,
        workflow_stopped_at,
        job_run_date,
        job_run_queued_at as job_queued_at,
        job_run_started_at as job_started_at,
        job_run_stopped_at as job_stopped_at,

        -- durations
        date_diff('millisecond', job_run_queued_at, job_run_started_at) / 1000.0 as queue_seconds,
        job_run_seconds,

        -- utilisation
        median_cpu_utilization_pct as median_cpu_pct,
        max_cpu_utilization_pct as max_cpu_pct,
        median_ram_utilization_pct as median_ram_pct,
        max_ram_utilization_pct as max_ram_pct,

        -- credits
        compute_credits,
        dlc_credits,
        user_credits,
        storage_credits,
        network_credits,
        lease_credits,
        lease_overage_credits,
        ipranges_credits,
        total_credits,

        -- load bookkeeping
        _source_file,
        _source_row,
        _extracted_at,
        _row_hash

    from source
    left join vcs_projects using (vcs_url)

)

select * from renamed
