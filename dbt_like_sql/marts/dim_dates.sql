-- One row per UTC day from the first CI run or deployment to the last, with the week and month
-- it falls in: the date spine dim_weeks and dim_months are cut from.

with

ci_runs as (

    select * from fct_ci_runs

),

all_deployments as (

    select * from fct_deployments

),

runs as (

    select
        min(run_date) as first_day,
        max(run_date) as last_day
    from ci_runs

),

deployments as (

    -- a deployment can finish after the last run was created
    select
        min(deploy_date) as first_day,
        max(deploy_date) as last_day
    from all_deployments

),

bounds as (

    select
        least(r.first_day, d.first_day) as first_day,
        greatest(r.last_day, d.last_day) as last_day
    from runs as r
    cross join deployments as d

),

final as (

    select
        days.day::date as date_day,
        date_trunc('week', days.day)::date as week_start,
        date_trunc('month', days.day)::date as month_start
    from bounds
    cross join range(bounds.first_day, bounds.last_day + 1, interval 1 day) as days(day)

)

select * from final
