-- `metrics dora`: stands in for dim_months when mart_dora_keys runs over the window: no months,
-- with the window's columns.

select * from dim_weeks where false
