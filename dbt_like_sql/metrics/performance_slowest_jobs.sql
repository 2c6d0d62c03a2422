-- `metrics performance`: the ten jobs with the slowest 95th percentile of their completed runs'
-- durations, counted in the window by the day they started.

with

jobs as (

    -- one sorted copy of each job's durations serves both percentiles (a year is 5M job runs)
    select
        provider,
        org,
        repo,
        workflow_name,
        job_name,
        count(*) as completed_job_runs,
        quantile_cont(duration_seconds, [0.5, 0.95]) as duration_percentiles,
        max(duration_seconds) as duration_max_seconds
    from fct_ci_jobs
    where job_date between $first_day and $last_day
        and ($provider is null or provider = $provider)
        and ($org is null or org = $org)
        and ($repo is null or repo = $repo)
        and is_completed
        and duration_seconds is not null
    group by provider, org, repo, workflow_name, job_name

)

select
    provider,
    org,
    repo,
    workflow_name,
    job_name,
    completed_job_runs,
    duration_percentiles[1] as duration_p50_seconds,
    duration_percentiles[2] as duration_p95_seconds,
    duration_max_seconds
from jobs
order by duration_p95_seconds desc, provider, org, repo, workflow_name, job_name
limit 10
