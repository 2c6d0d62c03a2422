-- `metrics costs`: the USD price of one CircleCI credit the warehouse was built with.

select credit_price_usd from raw.settings
