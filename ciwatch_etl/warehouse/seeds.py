"""Seeds: the CSV files in `dbt_like_sql/seeds/`, each loaded by every build as `raw.<file stem>`.

Beside each CSV, `<stem>.yml` holds the table's `description` and one description per column
(`columns: {name: text}`); they become the table's comments, and a CSV column without one fails
the build, naming the file.

Seeds hold constant data that models join to (how each provider spells a status, the providers
there are). `circleci_resource_classes.csv` is the one exception: `ciwatch.toml` may add or
change its rows, so the build loads it with the other settings (`config_tables`).
A seed's column types are DuckDB's reading of the CSV; its content is part of the settings
fingerprint, so changing a seed rebuilds every model that reads it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import yaml

from ciwatch_etl.package_files import default_models_dir
from ciwatch_etl.warehouse.quoting import quote_identifier, quote_literal, quote_table
from ciwatch_etl.warehouse.raw import RAW_SCHEMA

SEEDS_FOLDER = "seeds"
# Loaded with the settings, as ciwatch.toml overrides it (see config_tables).
LOADED_WITH_SETTINGS = frozenset({"circleci_resource_classes"})


def seed_files(folder: Path | None = None) -> dict[str, Path]:
    """Table name -> CSV of every seed this module loads (default: the packaged seeds)."""
    root = (default_models_dir() if folder is None else folder) / SEEDS_FOLDER
    return {p.stem: p for p in sorted(root.glob("*.csv")) if p.stem not in LOADED_WITH_SETTINGS}


SEED_TABLES: frozenset[str] = frozenset(seed_files())


class SeedError(ValueError):
    """A seed's CSV or yml is malformed or undocumented."""


def load_seeds(con: duckdb.DuckDBPyConnection, files: dict[str, Path] | None = None) -> None:
    """Create `raw.<name>` from each seed CSV, with the comments of its yml."""
    for name, path in (seed_files() if files is None else files).items():
        table = quote_table(RAW_SCHEMA, name)
        con.execute(f"create table {table} as select * from read_csv(?, header = true)", [str(path)])
        description, columns = _documentation(path.with_suffix(".yml"))
        con.execute(f"comment on table {table} is {quote_literal(description)}")
        for (column,) in con.execute(f"select column_name from (describe {table})").fetchall():
            if not columns.get(column):
                raise SeedError(f"{path.with_suffix('.yml')}: no description for column {column!r}")
            con.execute(f"comment on column {table}.{quote_identifier(column)} is {quote_literal(columns[column])}")


def _documentation(yml_path: Path) -> tuple[str, dict[str, str]]:
    try:
        doc = yaml.safe_load(yml_path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise SeedError(f"{yml_path}: {error}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("description"), str) or not isinstance(
        doc.get("columns"), dict
    ):
        raise SeedError(f"{yml_path}: expected `description: text` and `columns: {{name: text}}`")
    return doc["description"], {str(k): str(v) for k, v in doc["columns"].items() if v}


def seeds_digest(files: dict[str, Path] | None = None) -> str:
    """One hash of every seed's name and content."""
    digest = hashlib.sha256()
    for name, path in sorted((seed_files() if files is None else files).items()):
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0" + path.with_suffix(".yml").read_bytes())
    return digest.hexdigest()
