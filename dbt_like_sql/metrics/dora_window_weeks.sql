-- `metrics dora`: stands in for dim_weeks when mart_dora_keys runs over the window: the window is
-- the only period.

select
    $first_day::date as period_start,
    $last_day::date as period_end,
    $period_days::integer as period_days
