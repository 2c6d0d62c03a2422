-- One row per mart_dora_keys row, with the DORA 2023 tier of each of its four keys:
--     deployment frequency  deploy days per week: >= 5 elite, >= 1 high, >= once a month medium
--                           (one deploy day in a 31-day month: 7 / 31 a week)
--     lead time             < 1 day elite, < 1 week high, < 1 month (30 days) medium
--     change failure rate   <= 5% elite, <= 10% high, <= 15% medium
--     time to restore       < 1 hour elite, < 1 day high, < 1 week medium
-- Anything worse is low; a key without data (null) has no tier.
-- The one definition of the thresholds: `ciwatch-etl metrics dora` runs this SQL over its own
-- window's keys, and ciwatch_etl.metrics.tiers over single values.

with

dora_keys as (

    select * from mart_dora_keys

),

final as (

    select
        *,
        case
            when deploy_days_per_week >= 5 then 'elite'
            when deploy_days_per_week >= 1 then 'high'
            when deploy_days_per_week >= 7 / 31 then 'medium'
            when deploy_days_per_week is not null then 'low'
        end as deployment_frequency_tier,
        case
            when lead_time_median_seconds < 86400 then 'elite'
            when lead_time_median_seconds < 7 * 86400 then 'high'
            when lead_time_median_seconds < 30 * 86400 then 'medium'
            when lead_time_median_seconds is not null then 'low'
        end as lead_time_tier,
        case
            when change_failure_rate <= 0.05 then 'elite'
            when change_failure_rate <= 0.10 then 'high'
            when change_failure_rate <= 0.15 then 'medium'
            when change_failure_rate is not null then 'low'
        end as change_failure_rate_tier,
        case
            when restore_median_seconds < 3600 then 'elite'
            when restore_median_seconds < 86400 then 'high'
            when restore_median_seconds < 7 * 86400 then 'medium'
            when restore_median_seconds is not null then 'low'
        end as time_to_restore_tier
    from dora_keys

)

select * from final
