-- One row per SourceCraft repository (raw.sourcecraft_repos: GET /repos/id:{repo_id}) as of the
-- latest pull: the names its CI runs lack (those name the repository by id only). repo is its slug,
-- the name in its URL (falling back to its display name), and org its organization's slug: the
-- API embeds no organization name.

with

source as (

    select * from raw.sourcecraft_repos

),

renamed as (

    select
        -- ids
        repo_id,
        organization_id,

        -- descriptors
        'sourcecraft' as provider,
        organization_slug as org,
        coalesce(repo_slug, repo_name) as repo,
        repo_name,
        default_branch,
        visibility,
        description,

        -- load bookkeeping
        _source_file,
        _source_row,
        _extracted_at,
        _row_hash

    from source

)

select * from renamed
