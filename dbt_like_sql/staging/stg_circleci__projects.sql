-- One row per CircleCI project (raw.circleci_projects: GET /project/{project-slug}) as of the
-- latest pull: its ids, names and the default branch its VCS reports (vcs_info.default_branch).
-- org and repo are the organization's and the project's names; for GitHub and Bitbucket
-- projects they are the parts of the slug (gh/<org>/<repo>), for GitLab and GitHub App projects
-- (circleci/<organization id>/<project id>) the slug holds ids and only these columns name them.

with

source as (

    select * from raw.circleci_projects

),

renamed as (

    select
        -- ids
        project_slug,
        project_id,
        organization_id,

        -- descriptors
        'circleci' as provider,
        organization_name as org,
        project_name as repo,
        organization_slug,
        vcs_url,
        vcs_provider,
        default_branch,

        -- load bookkeeping
        _source_file,
        _source_row,
        _extracted_at,
        _row_hash

    from source

)

select * from renamed
