-- `metrics costs`: the window's waste per category, in credits, USD and (queue wait) hours.

select
    category,
    coalesce(sum(waste_credits), 0) as credits,
    coalesce(sum(waste_usd), 0) as usd,
    coalesce(sum(queue_seconds), 0) / 3600.0 as hours
from mart_credit_waste
where waste_date between $first_day and $last_day
    and ($provider is null or provider = $provider)
    and ($org is null or org = $org)
    and ($repo is null or repo = $repo)
group by category
