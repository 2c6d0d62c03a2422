-- One row per repository URL in the usage export (raw.circleci_usage_jobs.vcs_url, a null URL
-- included) with the project slug it names: gh/<owner>/<repo> or bb/<owner>/<repo>, null for any
-- other URL. A table of a few dozen rows, so that stg_circleci__usage_jobs, read by many models,
-- matches each job's URL to its slug instead of running three regular expressions on every row.

with

raw_usage_jobs as (

    select * from raw.circleci_usage_jobs

),

urls as (

    select distinct vcs_url from raw_usage_jobs

),

parsed as (

    select
        vcs_url,
        lower(regexp_extract(vcs_url, '^https?://([^/]+)/', 1)) as vcs_host,
        regexp_extract(vcs_url, '^https?://[^/]+/([^/]+/[^/]+?)(\.git)?/?$', 1) as vcs_path
    from urls

),

final as (

    select
        vcs_url,
        case
            when vcs_host = 'github.com' and vcs_path <> '' then 'gh/' || vcs_path
            when vcs_host = 'bitbucket.org' and vcs_path <> '' then 'bb/' || vcs_path
        end as vcs_project_slug
    from parsed

)

select * from final
