-- One row per CI job across providers (int_ci_jobs) with its UTC job_date (the day it started,
-- else the day its run was created) and whether it completed (success, failed or timeout), as
-- fct_ci_runs defines it for runs.

with

jobs as (

    select * from int_ci_jobs

),

final as (

    select
        -- ids, as int_ci_jobs has them
        columns(['provider', 'job_id', 'run_id', 'org', 'repo', 'repo_id', 'workflow_name', 'job_name', 'branch']),

        -- how it went
        j.status,
        j.is_rerun,
        j.status in ('success', 'failed', 'timeout') as is_completed,
        j.status = 'success' as is_successful,
        j.resource_class,

        -- timestamps
        j.run_date,
        -- run_date is the day the job's run was created
        coalesce(j.started_at::date, j.run_date) as job_date,
        j.started_at,
        j.finished_at,

        -- durations
        j.duration_seconds,
        j.queue_seconds

    from jobs as j

)

select * from final
