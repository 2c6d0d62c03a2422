-- `metrics performance`: the ten tests that flaked most often among those last flaky in the window.

select
    provider,
    org,
    repo,
    workflow_name,
    job_name,
    classname,
    test_name,
    times_flaked,
    time_wasted_seconds,
    last_flaked_at
from mart_flaky_tests
where last_flaked_at::date between $first_day and $last_day
    and ($provider is null or provider = $provider)
    and ($org is null or org = $org)
    and ($repo is null or repo = $repo)
order by times_flaked desc, time_wasted_seconds desc, repo, test_name
limit 10
