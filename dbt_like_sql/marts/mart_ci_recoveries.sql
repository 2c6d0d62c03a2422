-- One row per red streak on a repo's default branch: one or more completed runs of a workflow
-- that did not succeed, from the first failure's finish to the next successful run's finish
-- (recovery_seconds, red to green). Runs are ordered by when they finished; canceled and
-- skipped runs neither break nor end a streak. A streak still red has no recovery yet
-- (is_recovered false). mean(recovery_seconds) is the MTTR of `metrics performance`.

with

runs as (

    select * from fct_ci_runs
    where is_default_branch
        and is_completed
        and finished_at is not null

),

ordered as (

    select
        *,
        count_if(is_successful) over (
            partition by provider, org, repo, workflow_name order by finished_at, run_id
            rows between unbounded preceding and current row
        ) as successes_so_far
    from runs

),

streaks as (

    select
        provider,
        org,
        repo,
        workflow_name,
        successes_so_far,
        arg_min(run_id, finished_at) as failed_run_id,
        min(finished_at) as failed_at,
        count(*) as failed_runs
    from ordered
    where not is_successful
    group by
        provider,
        org,
        repo,
        workflow_name,
        successes_so_far

),

final as (

    select
        -- ids
        s.provider,
        s.org,
        s.repo,
        s.workflow_name,
        s.failed_run_id,
        g.run_id as recovered_run_id,

        -- the streak
        s.failed_runs,
        g.run_id is not null as is_recovered,

        -- timestamps
        s.failed_at,
        g.finished_at as recovered_at,

        -- durations
        date_diff('millisecond', s.failed_at, g.finished_at) / 1000.0 as recovery_seconds

    from streaks as s
    left join ordered as g
        on g.provider = s.provider
        and g.org is not distinct from s.org
        and g.repo = s.repo
        and g.workflow_name = s.workflow_name
        and g.is_successful
        and g.successes_so_far = s.successes_so_far + 1

)

select * from final
