"""Where the packaged SQL lives: `dbt_like_sql/` inside the wheel, else beside the package.

Kept apart from `models` so that readers of single SQL files (the metrics, the seed loader) find
them without loading the raw table declarations that model discovery needs.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

import ciwatch_etl


def sql_folder() -> Path:
    """`dbt_like_sql/` inside the installed wheel, else beside the package in an editable checkout."""
    packaged = importlib.resources.files("ciwatch_etl") / "dbt_like_sql"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(ciwatch_etl.__file__).resolve().parent.parent / "dbt_like_sql"
