"""Run a mart's own SQL over other inputs, so that a command and the mart share one definition.

A model's SQL names its inputs as tables (`from dim_weeks`, `from fct_deployments`). Wrapped in
`with dim_weeks as (...), ... select * from (<model SQL>)`, those names bind to the given
relations instead: a CTE shadows a table of the same name, and the model's own CTEs see it. So
`metrics dora` computes a window's keys with mart_dora_keys's SQL, its window taking the place
of dim_weeks' weeks. An input that narrows the table it replaces names it as `main.<table>`.

The texts joined here are the packaged SQL files and fixed SQL in this package; values the user
gives are bound parameters only, never part of the text.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

import ciwatch_etl


def model_sql(name: str, layer: str = "marts") -> str:
    """The SELECT of the packaged model `<layer>/<name>.sql`."""
    # Found as ciwatch_etl.warehouse.models.default_models_dir does, without importing that
    # module: it loads the raw table schemas (pandera, polars), which the metrics never need.
    packaged = importlib.resources.files("ciwatch_etl") / "dbt_like_sql"
    if packaged.is_dir():
        root = Path(str(packaged))
    else:
        root = Path(ciwatch_etl.__file__).resolve().parent.parent / "dbt_like_sql"
    return (root / layer / f"{name}.sql").read_text(encoding="utf-8").rstrip().rstrip(";")


def over(sql: str, inputs: dict[str, str]) -> str:
    """`sql` with each name in `inputs` bound to the relation that follows it (in order: a later
    input may read an earlier one)."""
    bound = ",\n".join(f"{name} as (\n{relation}\n)" for name, relation in inputs.items())
    return f"with\n{bound}\nselect * from (\n{sql}\n)"
