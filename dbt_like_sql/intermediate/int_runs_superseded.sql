-- One row per run (CircleCI workflow, SourceCraft workflow, gocdnext run, as int_job_runs_priced
-- sees them) that a newer push superseded: a newer run of the same org, repo, branch and workflow
-- was created while it was still going, at most 14 days after it was created. Newer means a later
-- push: for CircleCI a later pipeline (a re-run of an old pipeline supersedes nothing), elsewhere
-- a run created later. Scheduled runs are never superseded. superseded_at is the first such
-- newer run's creation.
-- Runs of one org, repo, branch and workflow get one group number; with the creation time it
-- makes one sortable key, so "created while the older run was still going" is a band between two
-- keys, which DuckDB joins by sorting (an inequality join) instead of pair by pair within a busy
-- branch. Every CTE is `not materialized`: a materialized one keeps DuckDB from planning that join.

with

jobs as not materialized (

    select * from int_job_runs_priced where run_id is not null

),

runs as not materialized (

    select
        provider,
        run_id,
        -- one run has one repo, branch, workflow, pipeline and trigger; max() picks it
        max(org) as org,
        max(repo) as repo,
        max(branch) as branch,
        max(workflow_name) as workflow_name,
        max(pipeline_id) as pipeline_id,
        max(trigger_event) as trigger_event,
        coalesce(min(pipeline_created_at), min(run_created_at)) as pushed_at,
        min(run_created_at) as run_created_at,
        max(run_finished_at) as run_finished_at
    from jobs
    group by
        provider,
        run_id

),

grouped_runs as not materialized (

    select
        *,
        dense_rank() over (order by provider, org, repo, branch, workflow_name) as group_number
    from runs
    where repo is not null
        and branch is not null
        and workflow_name is not null
        and run_created_at is not null

),

keyed_runs as not materialized (

    select
        *,
        group_number::hugeint * 10000000000000 + epoch_ms(run_created_at) as created_key,
        case when run_finished_at is not null then
            group_number::hugeint * 10000000000000
                + epoch_ms(least(run_finished_at, run_created_at + interval 14 days))
        end as until_key
    from grouped_runs

),

superseding as (

    select
        older.provider,
        older.run_id,
        any_value(older.run_created_at) as run_created_at,
        -- the push order is checked inside the aggregate so that the band stays the join's
        -- only two conditions
        min(
            case
                when newer.pushed_at > older.pushed_at
                    and coalesce(newer.pipeline_id <> older.pipeline_id, true)
                    then {'at': newer.run_created_at, 'run_id': newer.run_id}
            end
        ) as first_newer
    from keyed_runs as older
    inner join keyed_runs as newer
        on newer.created_key > older.created_key
        and newer.created_key < older.until_key
    where coalesce(older.trigger_event not in ('schedule', 'scheduled_pipeline'), true)
    group by
        older.provider,
        older.run_id

),

final as (

    select
        provider,
        run_id,
        run_created_at::date as run_date,
        first_newer.run_id as superseded_by_run_id,
        first_newer.at as superseded_at
    from superseding
    where first_newer is not null

)

select * from final
