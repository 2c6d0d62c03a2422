-- `metrics costs`: the window's spend per provider, the costliest first.

select
    provider,
    sum(credits) as credits,
    sum(cost_usd) as cost_usd,
    bool_or(is_estimate) as is_estimate
from mart_cost_breakdown
where usage_date between $first_day and $last_day
    and ($provider is null or provider = $provider)
    and ($org is null or org = $org)
    and ($repo is null or repo = $repo)
group by provider
order by cost_usd desc, provider
