-- One row per calendar week (Monday to Sunday, UTC days) that holds a day of dim_dates: the
-- periods of the weekly marts.
-- The marts read their periods from here rather than from date_trunc, so that
-- `ciwatch-etl metrics` can run the same SQL with its own window in place of these weeks.
-- A week only partly covered by the history (the first, the one under way) is listed whole
-- (period_days 7), as its rates will be when it ends.

with

dates as (

    select * from dim_dates

),

final as (

    select distinct
        week_start as period_start,
        week_start + 6 as period_end,
        7 as period_days
    from dates

)

select * from final
