-- ciwatch_etl.metrics.tiers: stands in for mart_dora_keys when mart_dora_tiers tiers single
-- values: one row of the four keys it reads, each a bound parameter of the same name.

select
    $deploy_days_per_week::double as deploy_days_per_week,
    $lead_time_median_seconds::double as lead_time_median_seconds,
    $change_failure_rate::double as change_failure_rate,
    $restore_median_seconds::double as restore_median_seconds
