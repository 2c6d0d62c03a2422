-- One row per CircleCI pipeline (raw.circleci_pipelines, from GET /project/{slug}/pipeline).
-- A pipeline is what a push, a schedule or an API call triggered; its workflows hold the runs.
-- Real responses carry trigger types outside the spec's enum (e.g. "Decoupled Ingestion System"
-- on errored pipelines): kept and flagged (is_known_trigger_type = false). Those also carry a
-- trigger received_at of 1970-01-01, which means unknown: trigger_received_at is null then.
-- Errored pipelines have no vcs block: branch, revision and commit are null.

with

source as (

    select * from raw.circleci_pipelines

),

renamed as (

    select
        -- ids
        pipeline_id,
        project_slug,

        -- descriptors
        'circleci' as provider,
        pipeline_number,
        state as pipeline_state,
        coalesce(state = 'errored', false) as is_errored,
        json_array_length(errors_json) as error_count,
        errors_json,

        -- trigger
        trigger_type,
        coalesce(trigger_type in ('scheduled_pipeline', 'explicit', 'api', 'webhook'), false) as is_known_trigger_type,
        nullif(trigger_actor_login, '') as trigger_actor_login,
        trigger_parameters_json,

        -- vcs
        vcs_provider_name,
        vcs_origin_repository_url,
        vcs_target_repository_url,
        coalesce(vcs_origin_repository_url <> vcs_target_repository_url, false) as is_fork,
        branch,
        tag,
        revision,
        review_id,
        review_url,
        commit_subject,
        commit_body,

        -- dates and timestamps (UTC)
        created_at,
        created_date,
        updated_at,
        case when trigger_received_at > timestamp '1970-01-01' then trigger_received_at end as trigger_received_at,

        -- load bookkeeping
        _source_file,
        _source_row,
        _extracted_at,
        _row_hash

    from source

)

select * from renamed
