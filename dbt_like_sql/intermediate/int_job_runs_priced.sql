-- One row per finished CI job run with what it cost, across providers.
-- CircleCI rows are the usage export's (billing-grade credits, each credit type); cost_usd prices
-- total_credits at raw.settings.credit_price_usd. SourceCraft and gocdnext bill no credits: their
-- credits are null and cost_usd is an estimate, the job's minutes at the provider's USD per minute
-- (raw.provider_minute_rates, set in ciwatch.toml), flagged is_cost_estimate.
-- rerun_key names "the same job run again": CircleCI the same job name in the same pipeline and
-- workflow (a re-run workflow keeps the pipeline; without a pipeline id, the same workflow),
-- gocdnext the attempts of one job of a run;
-- SourceCraft restarts are new runs the API does not link, so each task is its own key.
-- run_created_at / run_finished_at are the job's run (CircleCI workflow) times, and
-- pipeline_created_at the CircleCI pipeline's (the push), for superseded runs.

with

usage_jobs as (

    select * from stg_circleci__usage_jobs

),

ci_jobs as (

    select * from int_ci_jobs

),

ci_runs as (

    select * from int_ci_runs

),

settings as (

    select * from raw.settings

),

minute_rates as (

    select * from raw.provider_minute_rates

),

job_status_map as (

    select * from int_ci_status_map where status_level = 'job'

),

circleci as (

    select
        -- ids
        u.provider,
        u.job_id,
        u.workflow_id as run_id,
        u.pipeline_id,
        concat_ws('/', coalesce(u.pipeline_id, u.workflow_id, u.job_id), u.workflow_name, u.job_name) as rerun_key,

        -- descriptors
        split_part(u.project_slug, '/', 2) as org,
        split_part(u.project_slug, '/', 3) as repo,
        u.project_slug,
        u.workflow_name,
        u.job_name,
        u.branch,
        u.trigger_source as trigger_event,
        u.executor,
        u.resource_class,

        -- status
        coalesce(m.status, 'other') as status,
        u.job_status as source_status,

        -- timestamps
        u.job_run_date as usage_date,
        u.pipeline_created_at,
        coalesce(u.workflow_queued_at, u.job_queued_at, u.job_started_at) as run_created_at,
        u.workflow_stopped_at as run_finished_at,
        u.job_started_at as started_at,
        u.job_stopped_at as finished_at,

        -- durations
        u.job_run_seconds as duration_seconds,

        -- utilisation
        u.median_cpu_pct,
        u.max_cpu_pct,
        u.median_ram_pct,
        u.max_ram_pct,

        -- credits
        u.compute_credits,
        u.dlc_credits,
        u.user_credits,
        u.storage_credits,
        u.network_credits,
        u.lease_credits,
        u.lease_overage_credits,
        u.ipranges_credits,
        u.total_credits,

        -- cost
        u.total_credits * s.credit_price_usd as cost_usd,
        false as is_cost_estimate

    from usage_jobs as u
    cross join settings as s
    left join job_status_map as m on m.provider = u.provider and m.source_status = u.job_status

),

other_providers as (

    select
        -- ids
        j.provider,
        j.job_id,
        j.run_id,
        null::varchar as pipeline_id,
        case when j.provider = 'gocdnext' then j.run_id || '/' || split_part(j.job_id, '#', 1) else j.job_id end
            as rerun_key,

        -- descriptors
        j.org,
        j.repo,
        null::varchar as project_slug,
        j.workflow_name,
        j.job_name,
        j.branch,
        r.trigger_event,
        null::varchar as executor,
        j.resource_class,

        -- status
        j.status,
        j.source_status,

        -- timestamps
        j.started_at::date as usage_date,
        null::timestamp as pipeline_created_at,
        r.created_at as run_created_at,
        r.finished_at as run_finished_at,
        j.started_at,
        j.finished_at,

        -- durations
        j.duration_seconds,

        -- utilisation
        null::double as median_cpu_pct,
        null::double as max_cpu_pct,
        null::double as median_ram_pct,
        null::double as max_ram_pct,

        -- credits (none: these providers bill no credits)
        null::double as compute_credits,
        null::double as dlc_credits,
        null::double as user_credits,
        null::double as storage_credits,
        null::double as network_credits,
        null::double as lease_credits,
        null::double as lease_overage_credits,
        null::double as ipranges_credits,
        null::double as total_credits,

        -- cost
        j.duration_seconds / 60.0 * coalesce(rate.usd_per_minute, 0) as cost_usd,
        true as is_cost_estimate

    from ci_jobs as j
    left join ci_runs as r on r.provider = j.provider and r.run_id = j.run_id
    left join minute_rates as rate on rate.provider = j.provider
    where j.provider <> 'circleci'
        and j.started_at is not null
        and j.finished_at is not null

),

final as (

    select * from circleci
    union all by name
    select * from other_providers

)

select * from final
