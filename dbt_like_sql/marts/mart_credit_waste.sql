-- One row per wasted item: a job run's spend in one waste category, a job run's savings from a
-- smaller resource class, or a run's queue time priced as developer wait.
-- Categories and their precedence (a credit counts in one category at most) are those of
-- int_job_runs_classified: flaky_test, failed, canceled, rerun, superseded; then
-- overprovisioned (compute credits a recommended smaller class would save on the rest of the
-- job's spend) and queue_wait (the wait from queued to the first job starting, at
-- raw.settings.developer_hour_usd, once per push and day: a CircleCI pipeline's workflows queue
-- side by side, so the pipeline counts its longest wait of each day (a re-run on a later day is
-- a wait of its own); elsewhere each run. Scheduled and API-triggered runs are left out: nobody
-- waits on them). queue_wait is developer time, not CI spend: it has no credits and is not part
-- of the spend waste that can never exceed spend.
-- Credits are null for providers without credits; their USD is an estimate (is_estimate).

with

ci_runs as (

    select * from int_ci_runs

),

jobs as not materialized (

    -- read twice below: materialized, a copy of its 5M rows of a year would spill to disk
    select * from int_job_runs_classified

),

settings as (

    select * from raw.settings

),

job_items as not materialized (

    -- what every job row has, whatever its category; read twice below, as jobs is
    select
        usage_date as waste_date,
        provider,
        org,
        repo,
        workflow_name,
        job_name,
        branch,
        executor,
        resource_class,
        job_id as item_id,
        job_id,
        run_id,
        is_cost_estimate as is_estimate,
        null::double as queue_seconds,
        waste_category,
        waste_credits,
        waste_usd,
        overprovisioned_savable_credits,
        overprovisioned_savable_usd,
        suggested_resource_class,
        superseded_by_run_id
    from jobs

),

categorised_jobs as (

    select
        * exclude (waste_category, overprovisioned_savable_credits, overprovisioned_savable_usd,
            suggested_resource_class),
        waste_category as category,
        null::varchar as suggested_resource_class
    from job_items
    where waste_category is not null

),

overprovisioned_jobs as (

    select
        * exclude (waste_category, waste_credits, waste_usd, overprovisioned_savable_credits,
            overprovisioned_savable_usd, superseded_by_run_id),
        'overprovisioned' as category,
        overprovisioned_savable_credits as waste_credits,
        overprovisioned_savable_usd as waste_usd,
        null::varchar as superseded_by_run_id
    from job_items
    where overprovisioned_savable_credits > 0

),

queued_runs as (

    select
        r.*,
        -- one wait per push: a CircleCI pipeline's workflows, else the run itself
        row_number() over (
            partition by r.provider, coalesce(r.pipeline_id, r.run_id), r.run_date
            order by r.queue_seconds desc, r.run_id
        ) as wait_rank
    from ci_runs as r
    where r.finished_at is not null
        and r.queue_seconds > 0
        and coalesce(r.trigger_event not in ('schedule', 'scheduled_pipeline', 'api'), true)

),

queue_waits as (

    select
        r.run_date as waste_date,
        r.provider,
        r.org,
        r.repo,
        r.workflow_name,
        null::varchar as job_name,
        r.branch,
        null::varchar as executor,
        null::varchar as resource_class,
        'queue_wait' as category,
        r.run_id as item_id,
        null::varchar as job_id,
        r.run_id,
        null::double as waste_credits,
        r.queue_seconds / 3600.0 * s.developer_hour_usd as waste_usd,
        false as is_estimate,
        r.queue_seconds,
        null::varchar as suggested_resource_class,
        null::varchar as superseded_by_run_id
    from queued_runs as r
    cross join settings as s
    where r.wait_rank = 1

),

items as (

    select * from categorised_jobs
    union all by name
    select * from overprovisioned_jobs
    union all by name
    select * from queue_waits

),

final as (

    select
        -- grain
        waste_date,
        provider,
        org,
        repo,
        workflow_name,
        job_name,
        branch,
        executor,
        resource_class,
        category,
        item_id,
        job_id,
        run_id,

        -- amounts
        waste_credits,
        waste_usd,
        is_estimate,
        queue_seconds,

        -- explanation
        suggested_resource_class,
        superseded_by_run_id
    from items

)

select * from final
