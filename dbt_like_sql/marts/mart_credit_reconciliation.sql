-- One row per CircleCI project x workflow x UTC day: Insights credits against usage-export credits.
-- Insights is not billing-grade: CircleCI calls it "not a financial reporting tool" whose credits
-- do not come from the billing source of truth and may differ from the bill. The usage export is
-- the bill; this mart measures how far Insights is from it, so no one reports Insights as cost.
-- Runs are matched by workflow id (an Insights run id is the export's workflow_id) and counted
-- on the UTC day the workflow was created (for runs only in the export: the day its first job
-- ran). A run only one side has (older than Insights' window, still running at the pull, or an
-- export not loaded yet) counts as a difference; the run counts per side show which.
-- Usage projects are named as Insights names them (stg_circleci__usage_jobs.project_slug).
-- Like is compared with like: CircleCI documents that Insights credits count compute and docker
-- layer caching (DLC) credits, so credit_difference = insights - usage (compute + DLC);
-- relative_difference divides by that usage (null when it is 0). is_over_threshold: more than 5%
-- apart (or usage 0 and Insights not). usage_total_credits (every bucket: also user, storage,
-- network, lease and IP-range credits, which Insights leaves out) shows what the bill adds on top.

with

insights_workflow_runs as (

    select * from stg_circleci__insights_workflow_runs

),

usage_export_jobs as (

    select * from stg_circleci__usage_jobs

),

insights_runs as (

    select
        workflow_id,
        project_slug,
        workflow_name,
        created_date,
        insights_credits
    from insights_workflow_runs

),

usage_jobs as (

    select
        workflow_id,
        workflow_name,
        job_run_date,
        total_credits,
        compute_credits + dlc_credits as compute_dlc_credits,
        project_slug
    from usage_export_jobs
    where workflow_id is not null

),

usage_runs as (

    select
        workflow_id,
        -- one workflow run has one project and name; max() picks it without a group by on them
        max(project_slug) as project_slug,
        max(workflow_name) as workflow_name,
        min(job_run_date) as first_job_run_date,
        sum(total_credits) as total_credits,
        sum(compute_dlc_credits) as compute_dlc_credits
    from usage_jobs
    group by workflow_id

),

runs as (

    select
        coalesce(i.project_slug, u.project_slug) as project_slug,
        coalesce(i.workflow_name, u.workflow_name) as workflow_name,
        coalesce(i.created_date, u.first_job_run_date) as run_date,
        i.workflow_id is not null as is_in_insights,
        u.workflow_id is not null as is_in_usage,
        i.insights_credits,
        u.total_credits,
        u.compute_dlc_credits
    from insights_runs as i
    full outer join usage_runs as u
        on i.workflow_id = u.workflow_id

),

daily as (

    select
        -- grain
        run_date,
        project_slug,
        workflow_name,

        -- runs
        count_if(is_in_insights) as insights_workflow_runs,
        count_if(is_in_usage) as usage_workflow_runs,
        count_if(is_in_insights and is_in_usage) as matched_workflow_runs,

        -- credits
        coalesce(sum(insights_credits), 0) as insights_credits,
        coalesce(sum(total_credits), 0) as usage_total_credits,
        coalesce(sum(compute_dlc_credits), 0) as usage_compute_dlc_credits

    from runs
    group by
        run_date,
        project_slug,
        workflow_name

),

compared as (

    select
        daily.*,
        'circleci' as provider,

        -- like with like: the buckets Insights counts
        insights_credits - usage_compute_dlc_credits as credit_difference,
        (insights_credits - usage_compute_dlc_credits) / nullif(usage_compute_dlc_credits, 0) as relative_difference

    from daily

),

final as (

    select
        compared.*,
        coalesce(abs(relative_difference) > 0.05, insights_credits <> 0) as is_over_threshold,
        insights_workflow_runs = matched_workflow_runs
            and usage_workflow_runs = matched_workflow_runs as is_fully_matched
    from compared

)

select * from final
