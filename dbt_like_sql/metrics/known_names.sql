-- `metrics`: every org or repo ($column: 'org' or 'repo') of any run (fct_ci_runs) or any spend
-- (mart_cost_breakdown), in any period, in order.

with

names as (

    select case $column when 'org' then org when 'repo' then repo end as name
    from fct_ci_runs

    union

    select case $column when 'org' then org when 'repo' then repo end as name
    from mart_cost_breakdown

)

select name
from names
where name is not null
order by name
