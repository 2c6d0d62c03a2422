-- One row per failed production deployment that was restored: the next successful production
-- deployment of the same provider, org and repo, and when it finished. It may come any time
-- later, so this small table is rebuilt in full; it reads production deployments only, and
-- finds each failure's restore with an as-of join (one sorted pass, not a pair per failure and
-- later success). Which success restored it is left out: two may finish at the same instant.

with

production as (

    select
        provider,
        org,
        repo,
        deployment_id,
        outcome,
        deployed_at
    from int_deployments
    where is_production

),

failures as (

    select * from production where outcome = 'failed'

),

successes as (

    select * from production where outcome = 'success'

),

final as (

    select
        -- ids
        f.provider,
        f.deployment_id,

        -- timestamps
        s.deployed_at as restored_at,

        -- durations
        date_diff('millisecond', f.deployed_at, s.deployed_at) / 1000.0 as restore_seconds

    from failures as f
    asof inner join successes as s
        on s.provider = f.provider
        and s.org is not distinct from f.org
        and s.repo = f.repo
        and s.deployed_at > f.deployed_at

)

select * from final
