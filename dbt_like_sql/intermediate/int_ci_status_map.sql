-- One row per provider x level x original status: the normalised status it maps to.
-- Levels: 'run' (CircleCI workflow, SourceCraft workflow, gocdnext run) and 'job' (CircleCI job,
-- SourceCraft task, gocdnext job). A status missing here maps to 'other' in int_ci_runs and
-- int_ci_jobs and is counted by their every_status_mapped check, never dropped.
-- The rows are the seed seeds/ci_status_map.csv (its README says why CircleCI's 'failing',
-- 'on_hold' and 'retried' map as they do).

with

status_map as (

    select * from raw.ci_status_map

),

final as (

    select
        provider,
        status_level,
        source_status,
        status
    from status_map

)

select * from final
