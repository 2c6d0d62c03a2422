-- `metrics costs`: the window's spend, and the part of it priced at an estimated rate.

select
    coalesce(sum(credits), 0) as total_credits,
    coalesce(sum(cost_usd), 0) as total_cost_usd,
    coalesce(sum(cost_usd) filter (where is_estimate), 0) as estimated_cost_usd
from mart_cost_breakdown
where usage_date between $first_day and $last_day
    and ($provider is null or provider = $provider)
    and ($org is null or org = $org)
    and ($repo is null or repo = $repo)
