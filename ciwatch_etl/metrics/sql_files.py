"""The SQL the metrics run, read from the packaged `dbt_like_sql/` folder: the models' own SQL and
the metric queries of `dbt_like_sql/metrics/`.

A metric query (`metrics/<name>.sql`) takes its values as `$name` parameters; `query` binds the
ones its text names from a request's parameters, so values the user gives never become SQL text.

A model's SQL names its inputs as tables (`from dim_weeks`, `from fct_deployments`). Wrapped in
`with dim_weeks as (...), ... select * from (<model SQL>)` by `over`, those names bind to the
given relations instead: a CTE shadows a table of the same name, and the model's own CTEs see
it. So `metrics dora` computes a window's keys with mart_dora_keys's SQL, its window taking the
place of dim_weeks' weeks. An input that narrows the table it replaces names it as `main.<table>`.
"""

from __future__ import annotations

import functools
import re

import duckdb

from ciwatch_etl.metrics.published_warehouse import rows
from ciwatch_etl.package_files import default_models_dir

PARAMETER = re.compile(r"\$(\w+)")


@functools.cache
def model_sql(name: str, layer: str = "marts") -> str:
    """The SELECT of the packaged model `<layer>/<name>.sql`."""
    return (default_models_dir() / layer / f"{name}.sql").read_text(encoding="utf-8").rstrip().rstrip(";")


def metric_sql(name: str) -> str:
    """The packaged metric query `metrics/<name>.sql`."""
    return model_sql(name, "metrics")


def over(sql: str, inputs: dict[str, str]) -> str:
    """`sql` with each name in `inputs` bound to the relation that follows it (in order: a later
    input may read an earlier one)."""
    bound = ",\n".join(f"{name} as (\n{relation}\n)" for name, relation in inputs.items())
    return f"with\n{bound}\nselect * from (\n{sql}\n)"


def query(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, object]) -> list[dict[str, object]]:
    """`sql`'s rows, with the parameters it names bound from `params` (DuckDB refuses others)."""
    return rows(con, sql, {name: params[name] for name in _parameters(sql)})


@functools.cache
def _parameters(sql: str) -> frozenset[str]:
    return frozenset(PARAMETER.findall(sql))
