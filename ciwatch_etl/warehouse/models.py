"""Discover the SQL models in `dbt_like_sql/{staging,intermediate,marts}/` and order them.

Each model is `<layer>/<stem>.sql` plus `<layer>/<stem>.yml`; the stem is the table name and the
Dagster asset key. The SQL starts with a `--` comment block whose first line states the grain
("One row per ...") and whose rest says anything surprising: that block is the description.
The yml holds column descriptions and tests (see `model_tests`).

Dependencies are read from the SQL, never declared twice: `raw.<name>` is a raw table of the lake
(or `raw.settings` / `raw.quarantine`, made by the build), a bare name is another model, CTE names
are local. Anything wrong (unknown reference, parse error, cycle, missing yml) fails here, naming
the file, so a broken model never reaches a nightly run.
"""

from __future__ import annotations

import functools
import graphlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from sqlglot import exp

from ciwatch_etl.landing.tables import RAW_TABLES
from ciwatch_etl.package_files import default_models_dir, model_sql
from ciwatch_etl.warehouse.config_tables import CONFIG_TABLES
from ciwatch_etl.warehouse.materialization import (
    Materialization,
    MaterializationError,
    parse_materialization,
)
from ciwatch_etl.warehouse.model_tests import (
    ModelTest,
    ModelTestSpecError,
    column_tests,
    columns_documented,
    table_tests,
)
from ciwatch_etl.warehouse.raw import QUARANTINE_TABLE
from ciwatch_etl.warehouse.seeds import SEED_TABLES
from ciwatch_etl.warehouse.sql_parsing import SqlParseError, parse_statement
from ciwatch_etl.warehouse.unit_tests import UnitTest, UnitTestSpecError, parse_unit_tests

_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when built with it: 10x faster

LAYERS: tuple[str, ...] = ("staging", "intermediate", "marts")
# Made by the build itself (quarantine from the lake, the seeds, the rest from the settings and ciwatch.toml).
BUILD_RAW_TABLES: frozenset[str] = frozenset({QUARANTINE_TABLE, *CONFIG_TABLES, *SEED_TABLES})
GRAIN_PREFIX = "One row per"

# Stems become DuckDB table names, Dagster asset keys and check names: keep them plain.
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_CHECK_NAME = re.compile(r"^[A-Za-z0-9_]+$")


class ModelLoadError(ValueError):
    """A model file is missing, malformed or refers to something unknown."""


@dataclass(frozen=True)
class Model:
    name: str
    layer: str
    sql_path: Path
    sql: str  # the SELECT, without a trailing semicolon, ready for `create table ... as`
    description: str
    columns: dict[str, str | None]  # yml column name -> description, in yml order
    model_deps: tuple[str, ...]
    raw_deps: tuple[str, ...]  # lake tables only (keys of RAW_TABLES)
    tests: tuple[ModelTest, ...]
    build_deps: tuple[str, ...] = ()  # raw tables the build makes (settings, quarantine, ...)
    materialization: Materialization = Materialization()
    yml: str = ""  # the yml's text, part of what makes a built model current
    unit_tests: tuple[UnitTest, ...] = ()  # given/expect tests of the SQL alone (see `unit_tests`)


def load_models(directory: Path | None = None) -> list[Model]:
    """Every model under `directory` (default: the packaged models), dependencies first.

    Parsed once per state of the folder's files (names, sizes, modification times): a process that
    builds many times (Dagster's, the tests') parses the SQL and yml again only when they change.
    """
    root = default_models_dir() if directory is None else Path(directory)
    if not root.is_dir():
        raise ModelLoadError(f"models folder not found: {root}")
    files = tuple(
        (str(p), p.stat().st_mtime_ns, p.stat().st_size)
        for layer in LAYERS for p in sorted((root / layer).glob("*.*"))
    )
    return list(_load_models(root, files))


@functools.lru_cache(maxsize=8)
def _load_models(root: Path, files: tuple[tuple[str, int, int], ...]) -> tuple[Model, ...]:
    models: dict[str, Model] = {}
    for layer in LAYERS:
        folder = root / layer
        for yml_path in sorted(folder.glob("*.yml")):
            if not yml_path.with_suffix(".sql").exists():
                raise ModelLoadError(f"{yml_path}: yml without a model ({yml_path.stem}.sql)")
        for sql_path in sorted(folder.glob("*.sql")):
            model = _load_model(sql_path, layer)
            if model.name in models:
                raise ModelLoadError(
                    f"{sql_path}: model name {model.name} also used by {models[model.name].sql_path}"
                )
            models[model.name] = model
    for model in models.values():
        for dep in model.model_deps:
            if dep not in models:
                raise ModelLoadError(
                    f"{model.sql_path}: unknown table {dep!r} (neither a model nor a CTE; "
                    f"raw tables are referenced as raw.<name>)"
                )
    return tuple(_in_dependency_order(models))


def _load_model(sql_path: Path, layer: str) -> Model:
    name = sql_path.stem
    if not _NAME.match(name):
        raise ModelLoadError(f"{sql_path}: model names are lower_snake_case, got {name!r}")
    text = sql_path.read_text(encoding="utf-8")
    description = _leading_comment(text, sql_path)
    try:
        tree = parse_statement(text)
    except SqlParseError as error:
        raise ModelLoadError(f"{sql_path}: {error}") from None
    if not isinstance(tree, exp.Query):
        raise ModelLoadError(f"{sql_path}: a model is one SELECT statement, got {tree.key.upper()}")
    model_deps, raw_deps, build_deps = _references(tree, sql_path)
    yml_path = sql_path.with_suffix(".yml")
    inputs = {*model_deps, *(f"raw.{table}" for table in (*raw_deps, *build_deps))}
    columns, tests, materialization, unit_tests = _read_yml(yml_path, name, inputs)
    if not_inputs := set(materialization.input_lookback_days) - model_deps - raw_deps:
        raise ModelLoadError(
            f"{yml_path}: config.input_lookback_days names {sorted(not_inputs)}, not inputs of the model"
        )
    return Model(
        name=name,
        layer=layer,
        sql_path=sql_path,
        sql=model_sql(text),
        description=description,
        columns=columns,
        model_deps=tuple(sorted(model_deps)),
        raw_deps=tuple(sorted(raw_deps)),
        tests=tests,
        build_deps=tuple(sorted(build_deps)),
        materialization=materialization,
        yml=yml_path.read_text(encoding="utf-8"),
        unit_tests=unit_tests,
    )


def _leading_comment(text: str, sql_path: Path) -> str:
    lines = []
    for line in text.lstrip().splitlines():
        if not line.startswith("--"):
            break
        lines.append(line[2:].removeprefix(" ").rstrip())
    description = "\n".join(lines).strip()
    if not description.startswith(GRAIN_PREFIX):
        raise ModelLoadError(
            f"{sql_path}: the file must start with a `--` comment whose first line states the "
            f"grain ({GRAIN_PREFIX!r} ...)"
        )
    return description


def _references(tree: exp.Expression, sql_path: Path) -> tuple[set[str], set[str], set[str]]:
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    model_deps: set[str] = set()
    raw_deps: set[str] = set()
    build_deps: set[str] = set()
    for table in tree.find_all(exp.Table):
        # Table functions (range(), unnest(), ...) are not references to other tables.
        if not isinstance(table.this, exp.Identifier):
            continue
        name, schema = table.name.lower(), table.db.lower()
        if table.catalog:
            raise ModelLoadError(f"{sql_path}: unknown table {table.sql(dialect='duckdb')!r}")
        if schema == "raw":
            if name not in RAW_TABLES and name not in BUILD_RAW_TABLES:
                known = ", ".join(sorted({*RAW_TABLES, *BUILD_RAW_TABLES}))
                raise ModelLoadError(f"{sql_path}: unknown raw table raw.{name} (known: {known})")
            (raw_deps if name in RAW_TABLES else build_deps).add(name)
        elif schema in ("", "main"):
            if not (schema == "" and name in ctes):
                model_deps.add(name)
        else:
            raise ModelLoadError(f"{sql_path}: unknown table {table.sql(dialect='duckdb')!r}")
    return model_deps, raw_deps, build_deps


def _read_yml(
    yml_path: Path, table: str, inputs: set[str]
) -> tuple[dict[str, str | None], tuple[ModelTest, ...], Materialization, tuple[UnitTest, ...]]:
    if not yml_path.exists():
        raise ModelLoadError(f"{yml_path}: missing (every model needs a yml with its column descriptions)")
    try:
        doc = yaml.load(yml_path.read_text(encoding="utf-8"), Loader=_YAML_LOADER) or {}
    except yaml.YAMLError as error:
        raise ModelLoadError(f"{yml_path}: not valid YAML: {error}") from None
    try:
        materialization = parse_materialization(doc.get("config") if isinstance(doc, dict) else None)
        columns, tests = _parse_yml(doc, table, materialization)
        unit_tests = parse_unit_tests(doc.get("unit_tests") or [], inputs)
    except (ModelTestSpecError, MaterializationError, UnitTestSpecError) as error:
        raise ModelLoadError(f"{yml_path}: {error}") from None
    names = [t.name for t in tests]
    for test_name in names:
        if not _CHECK_NAME.match(test_name):
            raise ModelLoadError(f"{yml_path}: test name {test_name!r} must match {_CHECK_NAME.pattern}")
        if names.count(test_name) > 1:
            raise ModelLoadError(f"{yml_path}: two tests are named {test_name!r}")
    partition_by = materialization.partition_by
    if partition_by is not None and partition_by not in columns:
        raise ModelLoadError(f"{yml_path}: config.partition_by {partition_by!r} is not listed under `columns`")
    return columns, tests, materialization, unit_tests


def _parse_yml(
    doc: Any, table: str, materialization: Materialization
) -> tuple[dict[str, str | None], tuple[ModelTest, ...]]:
    if not isinstance(doc, dict) or set(doc) - {"config", "columns", "tests", "unit_tests"}:
        raise ModelTestSpecError("expected a mapping with `config`, `columns` and `tests` only (and `unit_tests`)")
    column_specs = doc.get("columns") or {}
    if not isinstance(column_specs, dict):
        raise ModelTestSpecError("`columns` must map column names to {description, tests}")
    columns: dict[str, str | None] = {}
    tests: list[ModelTest] = []
    for column, spec in column_specs.items():
        spec = spec or {}
        if not isinstance(spec, dict) or set(spec) - {"description", "tests"}:
            raise ModelTestSpecError(f"column {column}: expected {{description, tests}}, got {spec!r}")
        columns[str(column)] = spec.get("description")
        tests.extend(column_tests(table, str(column), spec.get("tests") or []))
    if materialization.unique_key:
        tests.extend(table_tests(table, [{"unique": list(materialization.unique_key)}]))
    tests.extend(table_tests(table, doc.get("tests") or []))
    for test in tests:
        _check_columns_declared(test, columns)
    tests.append(columns_documented(table, columns))
    return columns, tuple(tests)


def _check_columns_declared(test: ModelTest, columns: dict[str, str | None]) -> None:
    for column in test.columns:
        if column not in columns:
            raise ModelTestSpecError(f"test {test.name} uses column {column!r}, not listed under `columns`")


def _in_dependency_order(models: dict[str, Model]) -> list[Model]:
    sorter = graphlib.TopologicalSorter({name: m.model_deps for name, m in models.items()})
    try:
        sorter.prepare()
    except graphlib.CycleError as error:
        cycle = error.args[1]
        files = ", ".join(str(models[name].sql_path) for name in dict.fromkeys(cycle))
        raise ModelLoadError(f"dependency cycle {' -> '.join(cycle)} in {files}") from None
    ordered: list[Model] = []
    while sorter.is_active():
        # Sorting each ready batch keeps the order stable across machines and runs.
        ready = sorted(sorter.get_ready(), key=lambda n: (LAYERS.index(models[n].layer), n))
        ordered.extend(models[name] for name in ready)
        sorter.done(*ready)
    return ordered
