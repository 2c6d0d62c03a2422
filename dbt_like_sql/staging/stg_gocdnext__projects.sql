-- One row per gocdnext project (raw.gocdnext_projects: GET /api/v1/projects/{slug}) as of the
-- latest pull. gocdnext has no organizations: a server is one, so org is the server's name
-- (GOCDNEXT_NAME when the pull had it, else the server's host name) and repo the project slug, as
-- in the runs. default_branch is the bound repository's (scm_source); null while none is bound.

with

source as (

    select * from raw.gocdnext_projects

),

renamed as (

    select
        -- ids
        project_id,
        server_host,

        -- descriptors
        'gocdnext' as provider,
        server_name as org,
        slug as repo,
        name as project_name,
        description as project_description,
        provider as scm_provider,
        scm_url,
        default_branch,
        config_path,

        -- timestamps (UTC)
        created_at,

        -- load bookkeeping
        _source_file,
        _source_row,
        _extracted_at,
        _row_hash

    from source

)

select * from renamed
