"""Where the files shipped with the package are (the SQL models folder and its seeds), and how a
model file's text becomes the SQL that runs.

At the bottom floor (standard library only), so that both `config` (the packaged rate table)
and `warehouse` (the models) find the folder without importing each other.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

import ciwatch_etl


def default_models_dir() -> Path:
    """`dbt_like_sql/` inside the installed wheel, else beside the package in an editable checkout."""
    packaged = importlib.resources.files("ciwatch_etl") / "dbt_like_sql"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(ciwatch_etl.__file__).resolve().parent.parent / "dbt_like_sql"


def model_sql(text: str) -> str:
    """A model file's text as the SQL that runs: without its trailing semicolon and blanks."""
    return text.rstrip().rstrip(";").rstrip()
