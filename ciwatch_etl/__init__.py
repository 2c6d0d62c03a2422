"""ciwatch_etl: a batch ETL and DuckDB warehouse for CI/CD cost, performance and DORA analytics."""
