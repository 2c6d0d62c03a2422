"""`ciwatch-etl metrics {costs,performance,dora}`: the hosted service's questions, answered from the warehouse.

Each answer is `{"data": ...}` computed in SQL over the marts for one window of days; bad input
is `{"error": {"code", "message"}}`. Filter values reach SQL only as bound parameters.
"""
