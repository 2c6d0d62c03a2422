-- One row per calendar month (UTC days) that holds a day of dim_dates: the periods of the
-- monthly marts.
-- The marts read their periods from here rather than from date_trunc, so that
-- `ciwatch-etl metrics` can run the same SQL with its own window in place of these months.
-- A month only partly covered by the history is listed whole (period_days: all its days).

with

dates as (

    select * from dim_dates

),

final as (

    select distinct
        month_start as period_start,
        last_day(month_start) as period_end,
        day(last_day(month_start))::integer as period_days
    from dates

)

select * from final
