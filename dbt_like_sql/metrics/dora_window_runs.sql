-- `metrics dora`: stands in for fct_ci_runs when mart_dora_keys runs over the window: the runs of
-- the window and the filters.

select *
from main.fct_ci_runs
where run_date between $first_day and $last_day
    and ($provider is null or provider = $provider)
    and ($org is null or org = $org)
    and ($repo is null or repo = $repo)
