-- One row per provider x level x original status: the normalised status it maps to.
-- Levels: 'run' (CircleCI workflow, SourceCraft workflow, gocdnext run) and 'job' (CircleCI job,
-- SourceCraft task, gocdnext job). A status missing here maps to 'other' in int_ci_runs and
-- int_ci_jobs and is counted by their every_status_mapped check, never dropped.
-- CircleCI 'failing' (a job failed, others still running) and 'on_hold' (waiting for approval)
-- are unfinished: running and queued. 'retried' is the attempt that was retried: failed.

with

mapping (provider, status_level, source_status, status) as (

    values
        -- circleci workflows
        ('circleci', 'run', 'success', 'success'),
        ('circleci', 'run', 'running', 'running'),
        ('circleci', 'run', 'not_run', 'skipped'),
        ('circleci', 'run', 'failed', 'failed'),
        ('circleci', 'run', 'error', 'failed'),
        ('circleci', 'run', 'failing', 'running'),
        ('circleci', 'run', 'on_hold', 'queued'),
        ('circleci', 'run', 'canceled', 'canceled'),
        ('circleci', 'run', 'unauthorized', 'failed'),
        -- circleci jobs
        ('circleci', 'job', 'success', 'success'),
        ('circleci', 'job', 'running', 'running'),
        ('circleci', 'job', 'not_run', 'skipped'),
        ('circleci', 'job', 'failed', 'failed'),
        ('circleci', 'job', 'retried', 'failed'),
        ('circleci', 'job', 'queued', 'queued'),
        ('circleci', 'job', 'not_running', 'queued'),
        ('circleci', 'job', 'infrastructure_fail', 'failed'),
        ('circleci', 'job', 'timedout', 'timeout'),
        ('circleci', 'job', 'on_hold', 'queued'),
        ('circleci', 'job', 'terminated-unknown', 'failed'),
        ('circleci', 'job', 'blocked', 'queued'),
        ('circleci', 'job', 'canceled', 'canceled'),
        ('circleci', 'job', 'unauthorized', 'failed'),
        -- sourcecraft workflows and tasks share the Run.Status enum
        ('sourcecraft', 'run', 'created', 'queued'),
        ('sourcecraft', 'run', 'prepared', 'queued'),
        ('sourcecraft', 'run', 'processing', 'running'),
        ('sourcecraft', 'run', 'success', 'success'),
        ('sourcecraft', 'run', 'failed', 'failed'),
        ('sourcecraft', 'run', 'canceled', 'canceled'),
        ('sourcecraft', 'run', 'timeout', 'timeout'),
        ('sourcecraft', 'job', 'created', 'queued'),
        ('sourcecraft', 'job', 'prepared', 'queued'),
        ('sourcecraft', 'job', 'processing', 'running'),
        ('sourcecraft', 'job', 'success', 'success'),
        ('sourcecraft', 'job', 'failed', 'failed'),
        ('sourcecraft', 'job', 'canceled', 'canceled'),
        ('sourcecraft', 'job', 'timeout', 'timeout'),
        -- gocdnext runs and jobs
        ('gocdnext', 'run', 'queued', 'queued'),
        ('gocdnext', 'run', 'waiting', 'queued'),
        ('gocdnext', 'run', 'running', 'running'),
        ('gocdnext', 'run', 'success', 'success'),
        ('gocdnext', 'run', 'failed', 'failed'),
        ('gocdnext', 'run', 'canceled', 'canceled'),
        ('gocdnext', 'run', 'skipped', 'skipped'),
        ('gocdnext', 'job', 'queued', 'queued'),
        ('gocdnext', 'job', 'awaiting_approval', 'queued'),
        ('gocdnext', 'job', 'running', 'running'),
        ('gocdnext', 'job', 'success', 'success'),
        ('gocdnext', 'job', 'failed', 'failed'),
        ('gocdnext', 'job', 'canceled', 'canceled'),
        ('gocdnext', 'job', 'skipped', 'skipped')

),

final as (

    select
        provider,
        status_level,
        source_status,
        status
    from mapping

)

select * from final
