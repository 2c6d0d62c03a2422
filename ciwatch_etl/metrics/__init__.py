"""`ciwatch-etl metrics {costs,performance,dora}`: the hosted service's questions, answered from the warehouse.

Each answer is `{"data": ...}` (or, with --format, a table or CSV) computed in SQL over the marts
for one window of days. The queries are packaged SQL files, `dbt_like_sql/metrics/*.sql` (read by
`sql_files`); DORA runs the weekly marts' own SQL over the window, performance the weekly mart's
definitions as GROUP BY aggregates (`run_figures`). Bad input is `{"error": {"code", "message"}}`.
Filter values reach SQL only as bound parameters.
"""
