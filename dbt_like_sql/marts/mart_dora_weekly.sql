-- One row per calendar week (dim_weeks: Monday to Sunday) x provider x org x repo with CI runs or
-- production deployments in it (scope 'repo'), plus one per week x provider (scope 'provider':
-- org and repo '(all)') and one per week (scope 'overall': provider, org and repo '(all)'): the
-- four DORA keys, their counts and their DORA 2023 tiers. The definitions are in mart_dora_keys
-- and mart_dora_tiers, which `ciwatch-etl metrics dora` runs for its own window.

with

tiered as (

    select * from mart_dora_tiers where period_grain = 'week'

),

final as (

    select * exclude (period_grain) from tiered

)

select * from final
