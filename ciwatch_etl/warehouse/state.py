"""What a published warehouse was built from, kept inside it (schema `_ciwatch`) for the next build.

- `_ciwatch.lake_files`: every raw lake file the build read (path, size, modification time), so
  the next build knows which day partitions changed since;
- `_ciwatch.models`: each model's fingerprint (its SQL, yml and settings, and those of everything
  it reads), so a changed model, or a changed `ciwatch.toml`, rebuilds in full; how this build
  made it (rows, seconds, the first day it rewrote); and, for incremental models, the empty
  Parquet file that carries their columns;
- `_ciwatch.model_days`: for each day of an incremental model, the Parquet file holding its rows
  and a hash of them (a day recomputed with the same rows stays where it was);
- `_ciwatch.view_days`: for each partition of a partitioned view, its rows (`row_counts`), so
  the next build counts only the partitions its changes reach. A warehouse without this table
  (an older version's) has none known: the next build counts those views in full.

A warehouse without this schema (none yet, an older version, or a file that does not open:
overwritten, truncated) has no state: the next build is a full refresh from the lake, and says why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa

from ciwatch_etl.warehouse.lake_files import LakeFile
from ciwatch_etl.warehouse.quoting import quote_identifier

STATE_SCHEMA = "_ciwatch"
# Part of every fingerprint: a change to how models are stored rebuilds everything.
STORAGE_VERSION = "incremental-3"


class UnreadableWarehouse(RuntimeError):
    """A warehouse file that does not open, or holds no build state: names it and why, on one line."""


@dataclass(frozen=True)
class DayFile:
    path: str  # the Parquet file holding the day's rows (it may hold other days too)
    content_hash: str  # of the day's rows: equal rows, equal hash


@dataclass(frozen=True)
class ModelState:
    fingerprint: str
    columns_file: str | None = None  # incremental models: an empty file with the model's columns
    days: Mapping[date, DayFile] = field(default_factory=dict)  # incremental models
    # partitioned views: rows per partition (None: rows without one); None: not known
    partition_rows: Mapping[date | None, int] | None = None

    def files(self) -> set[str]:
        return {f.path for f in self.days.values()} | ({self.columns_file} if self.columns_file else set())


@dataclass(frozen=True)
class ModelRun:
    """How this build made one model: shown to operators in `_ciwatch.models`."""

    materialized: str
    rebuilt_from: str  # incremental: the first day recomputed, "all" or "none"
    row_count: int
    build_seconds: float
    test_seconds: float


@dataclass
class BuildState:
    lake_files: list[LakeFile] = field(default_factory=list)
    models: dict[str, ModelState] = field(default_factory=dict)

    def referenced_files(self) -> set[str]:
        return {path for model in self.models.values() for path in model.files()}


def read_state(warehouse: Path) -> BuildState | None:
    """The state kept in `warehouse`, or None when there is no warehouse yet; UnreadableWarehouse
    when there is one but it does not open or holds no state."""
    if not warehouse.exists():
        return None
    schema = quote_identifier(STATE_SCHEMA)
    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            lake_files = [
                LakeFile(*row)
                for row in con.execute(
                    f"select table_name, partition_day, path, size_bytes, modified_ns from {schema}.lake_files"
                ).fetchall()
            ]
            days: dict[str, dict[date, DayFile]] = {}
            for model, day, path, content_hash in con.execute(
                f"select model, day, path, content_hash from {schema}.model_days order by model, day"
            ).fetchall():
                days.setdefault(model, {})[day] = DayFile(path, content_hash)
            partition_rows: dict[str, dict[date | None, int]] = {}
            counted = _has_table(con, "view_days")
            if counted:
                for model, day, rows in con.execute(
                    f"select model, day, row_count from {schema}.view_days order by model, day"
                ).fetchall():
                    partition_rows.setdefault(model, {})[day] = rows
            models = {
                model: ModelState(fingerprint, columns_file, days.get(model, {}),
                                  partition_rows.get(model, {}) if counted and materialized == "view" else None)
                for model, fingerprint, columns_file, materialized in con.execute(
                    f"select model, fingerprint, columns_file, materialized from {schema}.models"
                ).fetchall()
            }
    except duckdb.CatalogException:
        raise UnreadableWarehouse(f"{warehouse} holds no build state (built by an older version?)") from None
    except duckdb.Error as error:
        raise UnreadableWarehouse(f"{warehouse} cannot be read ({' '.join(str(error).split())})") from None
    return BuildState(lake_files, models)


def write_state(con: duckdb.DuckDBPyConnection, state: BuildState, runs: dict[str, ModelRun]) -> None:
    con.execute(f"create schema {quote_identifier(STATE_SCHEMA)}")
    files = state.lake_files
    _create(con, "lake_files", pa.table({
        "table_name": pa.array([f.table for f in files], pa.string()),
        "partition_day": pa.array([f.partition for f in files], pa.date32()),
        "path": pa.array([f.path for f in files], pa.string()),
        "size_bytes": pa.array([f.size for f in files], pa.int64()),
        "modified_ns": pa.array([f.modified_ns for f in files], pa.int64()),
    }))
    names = list(state.models)
    _create(con, "models", pa.table({
        "model": pa.array(names, pa.string()),
        "fingerprint": pa.array([state.models[n].fingerprint for n in names], pa.string()),
        "materialized": pa.array([runs[n].materialized for n in names], pa.string()),
        "rebuilt_from": pa.array([runs[n].rebuilt_from for n in names], pa.string()),
        "row_count": pa.array([runs[n].row_count for n in names], pa.int64()),
        "build_seconds": pa.array([runs[n].build_seconds for n in names], pa.float64()),
        "test_seconds": pa.array([runs[n].test_seconds for n in names], pa.float64()),
        "columns_file": pa.array([state.models[n].columns_file for n in names], pa.string()),
    }))
    days = [(name, day, f) for name, m in state.models.items() for day, f in m.days.items()]
    _create(con, "model_days", pa.table({
        "model": pa.array([name for name, _, _ in days], pa.string()),
        "day": pa.array([day for _, day, _ in days], pa.date32()),
        "path": pa.array([f.path for _, _, f in days], pa.string()),
        "content_hash": pa.array([f.content_hash for _, _, f in days], pa.string()),
    }))
    views = [(name, day, rows) for name, m in state.models.items() for day, rows in (m.partition_rows or {}).items()]
    _create(con, "view_days", pa.table({
        "model": pa.array([name for name, _, _ in views], pa.string()),
        "day": pa.array([day for _, day, _ in views], pa.date32()),
        "row_count": pa.array([rows for _, _, rows in views], pa.int64()),
    }))


def _has_table(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    (found,) = con.execute(
        "select count(*) from duckdb_tables() where schema_name = ? and table_name = ?", [STATE_SCHEMA, table]
    ).fetchone()
    return found > 0


def _create(con: duckdb.DuckDBPyConnection, table: str, rows: pa.Table) -> None:
    # Thousands of rows (a file per raw table and day): one Arrow insert, not a statement per row.
    con.register("_state_rows", rows)
    try:
        con.execute(f"create table {quote_identifier(STATE_SCHEMA)}.{table} as select * from _state_rows")
    finally:
        con.unregister("_state_rows")
