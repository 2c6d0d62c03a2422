-- `metrics`: whether any run (fct_ci_runs) or any spend (mart_cost_breakdown), in any period,
-- has the org or repo $value ($column: 'org' or 'repo'). DuckDB binds $column before it plans,
-- so each exists reads the one column.

select
    exists (
        select 1 from fct_ci_runs
        where case $column when 'org' then org when 'repo' then repo end = $value
    )
    or exists (
        select 1 from mart_cost_breakdown
        where case $column when 'org' then org when 'repo' then repo end = $value
    ) as is_seen
