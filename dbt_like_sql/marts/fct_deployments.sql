-- One row per deployment detected in CI history, production or not, that finished success or
-- failed (timeouts count as failed; canceled, skipped or waiting deploys are no deployment).
-- Detection, per repo with the rules of int_repos_configured (ciwatch.toml):
--   job_name           a job (not an approval) whose name matches deployment_pattern;
--   workflow_name      else a run whose workflow name matches it (one deployment per run);
--   deployment_branch  else a successful run on the repo's deployment_branch.
-- A workflow that deploys through jobs (any of its runs has a deployment job) deploys only
-- through them: its runs that failed before reaching a deploy job are no deployment, never a
-- failed one. A run with deployment jobs gives one deployment per job, never one more for the run.
-- Production: a name matching non_production_pattern (staging, pre-prod, ...) never is; else one
-- matching production_pattern is. The deployment's own name decides first: the job's, then
-- (when the job's name says neither) its workflow's; the workflow's for workflow_name; the
-- workflow's or the branch's for deployment_branch. So in a `deploy` workflow, deploy-staging is
-- not production and deploy-production is; an unmatched pattern never makes everything production.
-- Lead time runs from lead_time_started_at to the deployment's finish: CircleCI the pipeline's
-- creation (the push or trigger; basis pipeline_created), gocdnext the creation of the repo's
-- first run of the same commit (first_run_of_commit), else the deployment's own run creation
-- (run_created). No source reports commit times.
-- Restore (failed production deployments): the next successful production deployment of the same
-- provider, org and repo, restore_seconds from this one's finish to that one's.

with

repos as (

    select * from int_repos_configured

),

runs as (

    select * from int_ci_runs

),

first_runs_of_commits as (

    select
        provider,
        org,
        repo,
        revision,
        min(created_at) as first_created_at
    from runs
    where revision is not null
    group by
        provider,
        org,
        repo,
        revision

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
        j.status,
        j.finished_at,
        case
            when regexp_matches(j.job_name, c.non_production_pattern, 'i') then false
            when regexp_matches(j.job_name, c.production_pattern, 'i') then true
            when regexp_matches(coalesce(j.workflow_name, ''), c.non_production_pattern, 'i') then false
            else regexp_matches(coalesce(j.workflow_name, ''), c.production_pattern, 'i')
        end as is_production
    from int_ci_jobs as j
    inner join repos as c on c.provider = j.provider and c.repo = j.repo
    where regexp_matches(j.job_name, c.deployment_pattern, 'i')
        and not j.is_approval

),

job_deploying_workflows as (

    select distinct
        provider,
        org,
        repo,
        workflow_name
    from job_deployments

),

run_deployments as (

    select
        r.provider,
        r.run_id,
        null::varchar as job_id,
        r.workflow_name as deployment_name,
        case
            when regexp_matches(r.workflow_name, c.deployment_pattern, 'i') then 'workflow_name'
            else 'deployment_branch'
        end as detected_by,
        r.status,
        r.finished_at,
        case
            when regexp_matches(r.workflow_name, c.non_production_pattern, 'i') then false
            when regexp_matches(r.workflow_name, c.deployment_pattern, 'i')
                then regexp_matches(r.workflow_name, c.production_pattern, 'i')
            when regexp_matches(r.branch, c.non_production_pattern, 'i') then false
            else regexp_matches(r.workflow_name, c.production_pattern, 'i')
                or regexp_matches(r.branch, c.production_pattern, 'i')
        end as is_production
    from runs as r
    inner join repos as c on c.provider = r.provider and c.repo = r.repo
    where (
            regexp_matches(r.workflow_name, c.deployment_pattern, 'i')
            or (r.branch = c.deployment_branch and r.status = 'success')
        )
        and not exists (
            select 1
            from job_deploying_workflows as w
            where w.provider = r.provider
                and w.org is not distinct from r.org
                and w.repo = r.repo
                and w.workflow_name is not distinct from r.workflow_name
        )

),

deployments as (

    select * exclude (org, repo, workflow_name) from job_deployments
    union all by name
    select * from run_deployments

),

finished as (

    select
        d.*,
        case when d.status = 'success' then 'success' else 'failed' end as outcome,
        r.org,
        r.repo,
        r.workflow_name,
        r.branch,
        r.revision,
        case
            when r.pipeline_created_at is not null then r.pipeline_created_at
            when f.first_created_at is not null then least(f.first_created_at, r.created_at)
            else r.created_at
        end as lead_time_started_at,
        case
            when r.pipeline_created_at is not null then 'pipeline_created'
            when f.first_created_at is not null then 'first_run_of_commit'
            else 'run_created'
        end as lead_time_basis
    from deployments as d
    inner join runs as r on r.provider = d.provider and r.run_id = d.run_id
    left join first_runs_of_commits as f
        on f.provider = r.provider
        and f.org is not distinct from r.org
        and f.repo = r.repo
        and f.revision = r.revision
    where d.status in ('success', 'failed', 'timeout')
        and d.finished_at is not null

),

restored as (

    select
        failure.provider,
        failure.run_id,
        failure.job_id,
        min(fix.finished_at) as restored_at
    from finished as failure
    inner join finished as fix
        on fix.provider = failure.provider
        and fix.org is not distinct from failure.org
        and fix.repo = failure.repo
        and fix.is_production
        and fix.outcome = 'success'
        and fix.finished_at > failure.finished_at
    where failure.is_production and failure.outcome = 'failed'
    group by
        failure.provider,
        failure.run_id,
        failure.job_id

),

final as (

    select
        -- ids
        f.provider,
        coalesce(f.job_id, f.run_id) as deployment_id,
        f.run_id,
        f.job_id,
        f.org,
        f.repo,
        f.workflow_name,
        f.branch,
        f.revision,

        -- what it was
        f.deployment_name,
        f.detected_by,
        f.is_production,
        case when f.is_production then 'production' else 'other' end as environment,
        f.outcome,
        f.status,

        -- timestamps
        f.finished_at::date as deploy_date,
        f.finished_at as deployed_at,
        f.lead_time_started_at,
        r.restored_at,

        -- durations
        f.lead_time_basis,
        date_diff('millisecond', f.lead_time_started_at, f.finished_at) / 1000.0 as lead_time_seconds,
        date_diff('millisecond', f.finished_at, r.restored_at) / 1000.0 as restore_seconds

    from finished as f
    left join restored as r
        on r.provider = f.provider and r.run_id = f.run_id and r.job_id is not distinct from f.job_id

)

select * from final
