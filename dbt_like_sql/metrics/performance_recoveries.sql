-- `metrics performance`: MTTR, the mean red-to-green time of the default-branch streaks
-- (mart_ci_recoveries) that recovered within the window.

select
    avg(recovery_seconds) as mttr_seconds,
    count(*) as recoveries
from mart_ci_recoveries
where is_recovered
    and recovered_at::date between $first_day and $last_day
    and ($provider is null or provider = $provider)
    and ($org is null or org = $org)
    and ($repo is null or repo = $repo)
