-- One row per CI run across providers (int_ci_runs), with what the performance marts need:
-- the UTC run_date (the day it was created), whether it ran on its repo's default branch
-- (int_repos_configured: ciwatch.toml's per-repo setting, else the provider's API's, else the
-- ciwatch.toml default, else main), and whether it completed. A completed run ended success, failed or timeout: canceled and skipped
-- runs say nothing about how fast or reliable CI is, so they are left out of success rates and
-- durations (they still count as runs). success_rate = successful / completed runs.
-- SourceCraft's API names no branch: its runs count as on the default branch, except those of
-- pull requests (event pr_update).

with

runs as (

    select * from int_ci_runs

),

repos as (

    select * from int_repos_configured

),

final as (

    select
        -- ids
        r.provider,
        r.run_id,
        r.org,
        r.repo,
        r.repo_id,
        r.workflow_name,
        r.branch,
        r.revision,

        -- how it went
        r.status,
        r.trigger_event,
        r.is_rerun,
        r.status in ('success', 'failed', 'timeout') as is_completed,
        r.status = 'success' as is_successful,
        coalesce(
            r.branch = c.default_branch,
            r.branch is null and r.provider = 'sourcecraft' and r.trigger_event is distinct from 'pr_update',
            false
        ) as is_default_branch,

        -- timestamps
        r.run_date,
        r.created_at,
        r.started_at,
        r.finished_at,

        -- durations
        r.duration_seconds,
        r.queue_seconds

    from runs as r
    left join repos as c on c.provider = r.provider and c.org is not distinct from r.org and c.repo = r.repo

)

select * from final
