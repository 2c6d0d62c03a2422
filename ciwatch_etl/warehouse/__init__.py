"""The DuckDB warehouse: SQL model discovery, the build from the lake, tests, atomic publish."""
