-- `metrics costs`: the window's spend and spend waste per project (queue wait is developer time,
-- not spend), the costliest first. Waste rows without an org join the spend's '(none)'.

with

spend as (

    select
        provider,
        org,
        repo,
        sum(credits) as credits,
        sum(cost_usd) as cost_usd,
        bool_or(is_estimate) as is_estimate
    from mart_cost_breakdown
    where usage_date between $first_day and $last_day
        and ($provider is null or provider = $provider)
        and ($org is null or org = $org)
        and ($repo is null or repo = $repo)
    group by provider, org, repo

),

waste as (

    select
        provider,
        coalesce(org, '(none)') as org,
        repo,
        sum(waste_credits) as waste_credits,
        sum(waste_usd) as waste_usd
    from mart_credit_waste
    where waste_date between $first_day and $last_day
        and ($provider is null or provider = $provider)
        and ($org is null or org = $org)
        and ($repo is null or repo = $repo)
        and category <> 'queue_wait'
    group by provider, coalesce(org, '(none)'), repo

)

select
    spend.*,
    waste.waste_credits,
    coalesce(waste.waste_usd, 0) as waste_usd
from spend
left join waste using (provider, org, repo)
order by cost_usd desc, provider, org, repo
