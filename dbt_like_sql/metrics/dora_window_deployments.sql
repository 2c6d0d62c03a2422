-- `metrics dora`: stands in for fct_deployments when mart_dora_keys runs over the window: the
-- deployments of the window and the filters.

select *
from main.fct_deployments
where deploy_date between $first_day and $last_day
    and ($provider is null or provider = $provider)
    and ($org is null or org = $org)
    and ($repo is null or repo = $repo)
