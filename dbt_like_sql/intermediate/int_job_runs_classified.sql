-- One row per priced job run (int_job_runs_priced) with the waste it carries: at most one waste
-- category for its spend, plus what a smaller resource class would have saved on the rest.
-- A credit is counted in one category at most; the first rule that holds wins:
--   1. flaky_test  the job failed (or timed out), the same job passed when run again within
--                  14 days (same rerun_key), and Insights listed a flaky test of that project,
--                  workflow and job in a snapshot taken within 14 days after the run (Insights'
--                  flaky window): the failure was the flake. Without Insights data it stays failed.
--   2. failed      any other failed or timed-out job run (infrastructure failures included).
--   3. canceled    a canceled job run.
--   4. rerun       a successful job run of a job that had already succeeded under the same
--                  rerun_key at most 14 days before: the repeated green work (the first success
--                  is the one kept).
--   5. superseded  a successful job run of a run that a newer push superseded
--                  (int_runs_superseded): the part of the job after the newer run started, which
--                  auto-cancel would have saved (all of it when the job had not started yet).
-- overprovisioned_savable_*: on whatever spend is not in a category (the part of a superseded
-- job before the newer run started included), the compute credits a month's recommended smaller
-- class would save (int_job_resource_classes_evaluated): compute x (1 - smaller rate / rate).
-- Every rule linking two job runs looks at most 14 days apart: the model's lookback_days, so a
-- nightly build rewrites the last 14 days (and the month, whose rightsizing may change).

with

insights_flaky_tests as (

    select * from stg_circleci__insights_flaky_tests

),

evaluated_classes as (

    select * from int_job_resource_classes_evaluated

),

jobs as not materialized (

    select * from int_job_runs_priced

),

flaky_snapshots as (

    select distinct
        project_slug,
        workflow_name,
        job_name,
        snapshot_date
    from insights_flaky_tests

),

settings as (

    select * from raw.settings

),

repeated_jobs as (

    -- Most jobs ran once; only those whose rerun_key repeats need sorting. The keys are found by
    -- their hash first (a hash collision only lets an extra key through to the exact sort).
    select hash(provider, rerun_key) as key_hash
    from jobs
    group by key_hash
    having count(*) > 1

),

attempt_dates as (

    -- the latest earlier success and the next later success of the same job (rerun_key), as
    -- days: a re-run counts when the two runs are at most 14 days apart
    select
        provider,
        job_id,
        usage_date,
        status,
        project_slug,
        workflow_name,
        job_name,
        max(case when status = 'success' then usage_date end) over (
            partition by provider, rerun_key order by started_at, job_id
            rows between unbounded preceding and 1 preceding
        ) as previous_success_date,
        min(case when status = 'success' then usage_date end) over (
            partition by provider, rerun_key order by started_at, job_id
            rows between 1 following and unbounded following
        ) as next_success_date
    from jobs
    where hash(provider, rerun_key) in (select key_hash from repeated_jobs)

),

flaky_failures as (

    -- failed runs of a job that passed again within 14 days, with a flaky test of it listed by
    -- Insights within 14 days after the failure
    select distinct
        d.provider,
        d.job_id,
        d.usage_date
    from attempt_dates as d
    inner join flaky_snapshots as f
        on f.project_slug = d.project_slug
        and f.workflow_name = d.workflow_name
        and f.job_name = d.job_name
        and f.snapshot_date between d.usage_date and d.usage_date + 14
    where d.status in ('failed', 'timeout')
        and d.next_success_date <= d.usage_date + 14

),

attempts as (

    select
        jobs.*,
        d.previous_success_date,
        d.next_success_date,
        f.job_id is not null as is_flaky_failure
    from jobs
    -- a job id is unique within a day (the lake merges by it); the day keeps a duplicate in
    -- two days (caught by the unique test) from matching twice
    left join attempt_dates as d using (provider, job_id, usage_date)
    left join flaky_failures as f using (provider, job_id, usage_date)

),

superseding as (

    select * from int_runs_superseded

),

categorised as (

    select
        a.*,
        s.superseded_by_run_id,
        s.superseded_at,
        -- share of the job after the newer run started
        case
            when s.superseded_at is null then 0.0
            when a.started_at >= s.superseded_at then 1.0
            when a.finished_at <= s.superseded_at then 0.0
            else date_diff('millisecond', s.superseded_at, a.finished_at)
                / nullif(date_diff('millisecond', a.started_at, a.finished_at), 0)::double
        end as superseded_share
    from attempts as a
    left join superseding as s on s.provider = a.provider and s.run_id = a.run_id

),

classified as (

    select
        *,
        case
            when is_flaky_failure then 'flaky_test'
            when status in ('failed', 'timeout') then 'failed'
            when status = 'canceled' then 'canceled'
            when status = 'success' and previous_success_date >= usage_date - 14 then 'rerun'
            when status = 'success' and superseded_share > 0 then 'superseded'
        end as waste_category
    from categorised

),

shared as (

    select
        *,
        case
            when waste_category = 'superseded' then superseded_share
            when waste_category is not null then 1.0
            else 0.0
        end as waste_share
    from classified

),

rightsized as (

    select
        j.*,
        e.suggested_resource_class,
        coalesce(
            j.compute_credits * (1 - j.waste_share) * (1 - e.suggested_credits_per_minute / e.credits_per_minute),
            0
        ) as overprovisioned_savable_credits
    from shared as j
    left join evaluated_classes as e
        on e.is_overprovisioned
        and j.provider = 'circleci'
        and e.usage_month = date_trunc('month', j.usage_date)::date
        and e.org is not distinct from j.org
        and e.repo is not distinct from j.repo
        and e.workflow_name is not distinct from j.workflow_name
        and e.job_name is not distinct from j.job_name
        and e.executor is not distinct from j.executor
        and e.resource_class is not distinct from j.resource_class

),

final as (

    select
        -- ids
        j.provider,
        j.job_id,
        j.run_id,
        j.rerun_key,

        -- descriptors
        j.org,
        j.repo,
        j.workflow_name,
        j.job_name,
        j.branch,
        j.trigger_event,
        j.executor,
        j.resource_class,
        j.status,
        j.usage_date,

        -- spend
        j.total_credits,
        j.compute_credits,
        j.cost_usd,
        j.is_cost_estimate,

        -- waste
        j.waste_category,
        j.waste_share,
        j.total_credits * j.waste_share as waste_credits,
        j.cost_usd * j.waste_share as waste_usd,
        j.superseded_by_run_id,
        j.superseded_at,

        -- rightsizing
        j.suggested_resource_class,
        j.overprovisioned_savable_credits,
        j.overprovisioned_savable_credits * settings.credit_price_usd as overprovisioned_savable_usd

    from rightsized as j
    cross join settings

)

select * from final
