-- One row per provider x org x repo seen in int_ci_runs: its display name, the ciwatch.toml rules
-- that apply to it (its own [repos."<repo>"] table, else the defaults, as raw.repo_rules holds
-- them), and its default branch with where that comes from.
-- Rules are keyed by the repo's name alone (as int_ci_runs.repo names it), so a repo of that name
-- on every provider shares them. A name whose repo was deleted and made again keeps the id of the
-- newest run's repo.
-- default_branch, most specific first: the repo's own default_branch in ciwatch.toml
-- (ciwatch_toml_repo: an explicit override, e.g. to measure recoveries on a release branch); else
-- the one its provider's API reports (api: CircleCI vcs_info.default_branch, SourceCraft
-- Repository.default_branch, gocdnext scm_source.default_branch); else [repos] default_branch
-- (ciwatch_toml_default); else "main" (builtin). The API comes before the [repos] default: that is
-- one guess for every repo, the API knows each repo's.

with

gocdnext_projects as (

    select * from stg_gocdnext__projects

),

circleci_projects as (

    select * from stg_circleci__projects

),

sourcecraft_repos as (

    select * from stg_sourcecraft__repos

),

runs as (

    select * from int_ci_runs

),

rules as (

    select * from raw.repo_rules

),

api_repos as (

    select provider, project_slug as repo_id, repo as repo_display_name, default_branch
    from circleci_projects
    union all by name
    select provider, repo_id, repo_name as repo_display_name, default_branch
    from sourcecraft_repos
    union all by name
    select provider, project_id as repo_id, project_name as repo_display_name, default_branch
    from gocdnext_projects

),

repos as (

    select
        provider,
        org,
        repo,
        arg_max(repo_id, created_at) as repo_id
    from runs
    group by provider, org, repo

),

final as (

    select
        -- ids
        r.provider,
        r.org,
        r.repo,
        r.repo_id,
        coalesce(a.repo_display_name, r.repo) as repo_display_name,

        -- deployment rules
        coalesce(own.deployment_pattern, fallback.deployment_pattern) as deployment_pattern,
        coalesce(own.production_pattern, fallback.production_pattern) as production_pattern,
        coalesce(own.non_production_pattern, fallback.non_production_pattern) as non_production_pattern,
        case when own.repo is not null then own.deployment_branch else fallback.deployment_branch end
            as deployment_branch,
        own.repo is not null as has_own_rules,

        -- default branch
        case
            when own.default_branch_source = 'ciwatch_toml_repo' then own.default_branch
            when a.default_branch <> '' then a.default_branch
            else fallback.default_branch
        end as default_branch,
        case
            when own.default_branch_source = 'ciwatch_toml_repo' then own.default_branch_source
            when a.default_branch <> '' then 'api'
            else fallback.default_branch_source
        end as default_branch_source,
        a.default_branch as api_default_branch

    from repos as r
    cross join (select * from rules where repo is null) as fallback
    left join rules as own on own.repo = r.repo
    left join api_repos as a on a.provider = r.provider and a.repo_id = r.repo_id

)

select * from final
