-- One row per deployment detected in CI history, production or not, that finished success or
-- failed (timeouts count as failed; canceled, skipped or waiting deploys are no deployment).
-- Detection, per repo with the rules of int_repos_configured (ciwatch.toml):
--   job_name           a job (not an approval) whose name matches deployment_pattern;
--   workflow_name      else a run whose workflow name matches it (one deployment per run);
--   deployment_branch  else a successful run on the repo's deployment_branch.
-- A workflow that deploys through jobs (a run of it created at most 14 days before or after has a
-- deployment job) deploys only through them: its runs that failed before reaching a deploy job
-- are no deployment, never a failed one. A run with deployment jobs gives one deployment per job,
-- never one more for the run. Rows are kept by their run's creation day (run_date).
-- Production: a name matching non_production_pattern (staging, pre-prod, ...) never is; else one
-- matching production_pattern is. The deployment's own name decides first: the job's, then
-- (when the job's name says neither) its workflow's; the workflow's for workflow_name; the
-- workflow's or the branch's for deployment_branch. So in a `deploy` workflow, deploy-staging is
-- not production and deploy-production is; an unmatched pattern never makes everything production.
-- The patterns are evaluated once per distinct org, repo and name, not once per run.

with

repos as (

    select * from int_repos_configured

),

-- Read twice each: scanning the Parquet again is cheaper than holding a year of jobs in memory.
runs as not materialized (

    select * from int_ci_runs

),

jobs as not materialized (

    select * from int_ci_jobs where not is_approval

),

job_names as (

    select distinct
        provider,
        org,
        repo,
        workflow_name,
        job_name
    from jobs

),

job_rules as (

    select
        n.*,
        regexp_matches(n.job_name, c.deployment_pattern, 'i') as is_deployment,
        case
            when regexp_matches(n.job_name, c.non_production_pattern, 'i') then false
            when regexp_matches(n.job_name, c.production_pattern, 'i') then true
            when regexp_matches(coalesce(n.workflow_name, ''), c.non_production_pattern, 'i') then false
            else regexp_matches(coalesce(n.workflow_name, ''), c.production_pattern, 'i')
        end as is_production
    from job_names as n
    inner join repos as c on c.provider = n.provider and c.org is not distinct from n.org and c.repo = n.repo

),

job_deployments as (

    select
        j.provider,
        j.org,
        j.repo,
        j.workflow_name,
        j.run_id,
        j.job_id,
        j.job_name as deployment_name,
        'job_name' as detected_by,
        j.run_date,
        j.status,
        j.finished_at,
        r.is_production
    from jobs as j
    inner join job_rules as r using (provider, repo, job_name)
    where r.is_deployment
        and r.org is not distinct from j.org
        and r.workflow_name is not distinct from j.workflow_name

),

job_deploying_days as (

    select distinct
        provider,
        org,
        repo,
        workflow_name,
        run_date
    from job_deployments

),

run_names as (

    select distinct
        provider,
        org,
        repo,
        workflow_name,
        branch
    from runs

),

run_rules as (

    select
        n.*,
        regexp_matches(n.workflow_name, c.deployment_pattern, 'i') as is_workflow_deployment,
        n.branch = c.deployment_branch as is_deployment_branch,
        case
            when regexp_matches(n.workflow_name, c.non_production_pattern, 'i') then false
            when regexp_matches(n.workflow_name, c.deployment_pattern, 'i')
                then regexp_matches(n.workflow_name, c.production_pattern, 'i')
            when regexp_matches(n.branch, c.non_production_pattern, 'i') then false
            else regexp_matches(n.workflow_name, c.production_pattern, 'i')
                or regexp_matches(n.branch, c.production_pattern, 'i')
        end as is_production
    from run_names as n
    inner join repos as c on c.provider = n.provider and c.org is not distinct from n.org and c.repo = n.repo

),

-- Runs whose workflow name, or whose branch (successful runs only), the repo's rules deploy from.
run_candidates as (

    select
        r.provider,
        r.org,
        r.repo,
        r.workflow_name,
        r.run_id,
        r.run_date,
        r.status,
        r.finished_at,
        rules.is_workflow_deployment,
        rules.is_production
    from runs as r
    inner join run_rules as rules
        on rules.provider = r.provider
        and rules.org is not distinct from r.org
        and rules.repo = r.repo
        and rules.workflow_name is not distinct from r.workflow_name
        and rules.branch is not distinct from r.branch
    where rules.is_workflow_deployment or (rules.is_deployment_branch and r.status = 'success')

),

-- A run counts only where no job of its workflow deployed within 14 days either side.
run_deployments as (

    select
        c.* exclude (is_workflow_deployment),
        null::varchar as job_id,
        c.workflow_name as deployment_name,
        case when c.is_workflow_deployment then 'workflow_name' else 'deployment_branch' end as detected_by
    from run_candidates as c
    where not exists (
        select 1
        from job_deploying_days as w
        where w.provider = c.provider
            and w.org is not distinct from c.org
            and w.repo = c.repo
            and w.workflow_name is not distinct from c.workflow_name
            and w.run_date between c.run_date - 14 and c.run_date + 14
    )

),

deployments as (

    select * from job_deployments
    union all by name
    select * from run_deployments

),

final as (

    select
        -- ids
        d.provider,
        coalesce(d.job_id, d.run_id) as deployment_id,
        d.run_id,
        d.job_id,
        d.org,
        d.repo,
        d.workflow_name,

        -- what it was
        d.deployment_name,
        d.detected_by,
        d.is_production,
        case when d.status = 'success' then 'success' else 'failed' end as outcome,
        d.status,

        -- timestamps
        d.run_date,
        d.finished_at::date as deploy_date,
        d.finished_at as deployed_at

    from deployments as d
    where d.status in ('success', 'failed', 'timeout')
        and d.finished_at is not null

)

select * from final
