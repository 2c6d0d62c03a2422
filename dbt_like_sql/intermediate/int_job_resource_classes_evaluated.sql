-- One row per calendar month x CircleCI org x repo x workflow x job x executor x resource class:
-- how hard the job's runs used their machine, and the next smaller class when they barely did.
-- A class is over-provisioned for a month when at least 10 runs report utilisation and the
-- average (of each run's median) and the maximum (of each run's max) CPU and RAM are all under
-- 40%; then the suggestion is the class of the same family (executor and CPU architecture) with
-- the highest size_rank below it in raw.circleci_resource_classes. A class missing from that table,
-- or the smallest of its family, gets no suggestion. Runs without utilisation (shorter than
-- about 15 s) count in job_runs but not in the averages.

with

priced_jobs as (

    select * from int_job_runs_priced

),

jobs as (

    select
        *,
        median_cpu_pct is not null and max_cpu_pct is not null
            and median_ram_pct is not null and max_ram_pct is not null as is_measured
    from priced_jobs
    where provider = 'circleci'

),

classes as (

    select * from raw.circleci_resource_classes

),

monthly as (

    select
        -- grain
        date_trunc('month', usage_date)::date as usage_month,
        provider,
        org,
        repo,
        workflow_name,
        job_name,
        executor,
        resource_class,

        -- runs
        count(*) as job_runs,
        count_if(is_measured) as measured_job_runs,

        -- utilisation of the measured runs
        avg(median_cpu_pct) filter (where is_measured) as avg_cpu_pct,
        max(max_cpu_pct) filter (where is_measured) as max_cpu_pct,
        avg(median_ram_pct) filter (where is_measured) as avg_ram_pct,
        max(max_ram_pct) filter (where is_measured) as max_ram_pct,

        -- credits
        sum(compute_credits) as compute_credits,
        sum(total_credits) as total_credits

    from jobs
    group by
        date_trunc('month', usage_date)::date,
        provider,
        org,
        repo,
        workflow_name,
        job_name,
        executor,
        resource_class

),

smaller as (

    select
        current_class.executor,
        current_class.resource_class,
        arg_max(smaller_class.resource_class, smaller_class.size_rank) as suggested_resource_class,
        max(smaller_class.size_rank) as suggested_size_rank
    from classes as current_class
    inner join classes as smaller_class
        on smaller_class.executor = current_class.executor
        and smaller_class.family = current_class.family
        and smaller_class.size_rank < current_class.size_rank
    group by
        current_class.executor,
        current_class.resource_class

),

rated as (

    select
        m.*,

        -- rates
        c.credits_per_minute,
        s.suggested_resource_class,
        suggested.credits_per_minute as suggested_credits_per_minute,

        -- verdict
        m.measured_job_runs >= 10
            and m.avg_cpu_pct < 40 and m.max_cpu_pct < 40
            and m.avg_ram_pct < 40 and m.max_ram_pct < 40 as is_underused

    from monthly as m
    left join classes as c on c.executor = m.executor and c.resource_class = m.resource_class
    left join smaller as s on s.executor = m.executor and s.resource_class = m.resource_class
    left join classes as suggested
        on suggested.executor = s.executor and suggested.resource_class = s.suggested_resource_class

),

final as (

    select
        *,
        is_underused and suggested_resource_class is not null as is_overprovisioned
    from rated

)

select * from final
