-- One row per provider x repo seen in int_ci_runs: the ciwatch.toml rules that apply to it (its
-- own [repos."<repo>"] table, else the defaults), as raw.repo_rules holds them.
-- Rules are keyed by the repo's name alone, so a repo of that name on every provider shares them.

with

repos as (

    select distinct
        provider,
        repo
    from int_ci_runs

),

rules as (

    select * from raw.repo_rules

),

final as (

    select
        r.provider,
        r.repo,
        coalesce(own.deployment_pattern, fallback.deployment_pattern) as deployment_pattern,
        coalesce(own.production_pattern, fallback.production_pattern) as production_pattern,
        coalesce(own.non_production_pattern, fallback.non_production_pattern) as non_production_pattern,
        case when own.repo is not null then own.deployment_branch else fallback.deployment_branch end
            as deployment_branch,
        coalesce(own.default_branch, fallback.default_branch) as default_branch,
        own.repo is not null as has_own_rules
    from repos as r
    cross join (select * from rules where repo is null) as fallback
    left join rules as own on own.repo = r.repo

)

select * from final
