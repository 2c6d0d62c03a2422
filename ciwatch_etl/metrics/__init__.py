"""`ciwatch-etl metrics {costs,performance,dora}`: the hosted service's questions, answered from the warehouse.

Each answer is `{"data": ...}` (or, with --format, a table or CSV) computed in SQL over the marts
for one window of days; performance and DORA run the weekly marts' own SQL over the window
(`model_sql`). Bad input is `{"error": {"code", "message"}}`. Filter values reach SQL only as
bound parameters.
"""
