"""Data flows one way: every module imports only its own floor or a lower one, and no package
imports another that imports it back.

Floors, lowest first (a root module is its own package here):
    0  root utilities: the package itself, environment, config_file, package_files, crash_points,
       exit_codes, interrupts, data_folder, owned_folders, write_lock
    1  sources     HTTP clients returning plain records
    2  schemas     table declarations, pandera schemas, records -> typed frames
    3  landing     staging, quarantine, merge into the lake
    4  warehouse   the DuckDB build
    5  metrics, report   (report reads metrics, never the reverse)
    6  assets, resources  Dagster wiring
    7  everything else at the root: definitions, schedules, pipeline, run_log, summary,
       source_status, local_usage, demo, demo_instance, cli, __main__; and the simulator, which
       only the top may import
The simulator stands in for the outside world: it imports nothing of ours outside itself but
the usage export's column list, which is CircleCI's CSV format and must not drift from it.

Imports are read with `ast` from every module, function-level and `TYPE_CHECKING` ones included.
"""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest

import ciwatch_etl

PACKAGE = Path(ciwatch_etl.__file__).parent
ROOT = "ciwatch_etl"

FLOORS: dict[str, int] = {
    ROOT: 0, "environment": 0, "config_file": 0, "package_files": 0, "crash_points": 0, "exit_codes": 0,
    "interrupts": 0, "data_folder": 0, "owned_folders": 0, "write_lock": 0,
    "sources": 1,
    "schemas": 2,
    "landing": 3,
    "warehouse": 4,
    "metrics": 5, "report": 5,
    "assets": 6, "resources": 6,
    "definitions": 7, "schedules": 7, "pipeline": 7, "run_log": 7, "summary": 7, "source_status": 7,
    "local_usage": 7, "demo": 7, "demo_instance": 7, "cli": 7, "__main__": 7, "simulator": 7,
}
# Imports between two packages of one floor that are allowed in one direction only.
ONE_WAY: dict[tuple[str, str], str] = {("report", "metrics"): "report reads metrics, never the reverse"}
# What the simulator may import from outside itself.
SIMULATOR_MAY_IMPORT = frozenset({"ciwatch_etl.schemas.circleci_usage_columns"})
# Imports that break the order today, to be emptied when the branches meet: (module, imported).
KNOWN: frozenset[tuple[str, str]] = frozenset()


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(source: str, module: str, modules: frozenset[str] = frozenset(), is_package: bool = False) -> set[str]:
    """Every `ciwatch_etl` module `source` imports, at any depth; relative imports are resolved,
    and `from X import a` counts as importing `X.a` when that is one of `modules`."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = module.split(".")
                base = ".".join(parts[: len(parts) - node.level + is_package] + ([node.module] if node.module else []))
            found |= {f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names}
    return {name for name in found if name == ROOT or name.startswith(ROOT + ".")}


def package_imports() -> dict[str, set[str]]:
    """Module -> the `ciwatch_etl` modules it imports, for every module of the package."""
    paths = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}
    modules = frozenset(paths)
    return {
        name: imports_of(path.read_text(encoding="utf-8"), name, modules, path.name == "__init__.py")
        for name, path in paths.items()
    }


def package_of(module: str) -> str:
    """The package a module belongs to: its first name below the root (a root module is its own)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ROOT


def violations(imports: dict[str, set[str]], floors: dict[str, int]) -> list[str]:
    """Each import that goes up a floor, crosses a one-way pair backwards, or leaves the simulator."""
    found = []
    for module, imported in sorted(imports.items()):
        here = package_of(module)
        for target in sorted(imported):
            there = package_of(target)
            if (module, target) in KNOWN or here == there:
                continue
            if here not in floors or there not in floors:
                found.append(f"{module} imports {target}: {here if here not in floors else there} has no floor")
            elif floors[there] > floors[here]:
                found.append(f"{module} (floor {floors[here]}, {here}) imports {target} "
                             f"(floor {floors[there]}, {there}): a lower floor may not import a higher one")
            elif (there, here) in ONE_WAY:
                found.append(f"{module} imports {target}: {ONE_WAY[(there, here)]}")
            elif here == "simulator" and target not in SIMULATOR_MAY_IMPORT:
                found.append(f"{module} imports {target}: the simulator imports nothing of ours outside itself")
    return found


def package_cycle(imports: dict[str, set[str]]) -> list[str]:
    """A cycle of packages importing each other (empty when there is none)."""
    graph: dict[str, set[str]] = {}
    for module, imported in imports.items():
        graph.setdefault(package_of(module), set()).update(package_of(t) for t in imported)
    for package, deps in graph.items():
        deps.discard(package)
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as exc:
        return list(exc.args[1])
    return []


def test_every_import_goes_down_the_floors():
    assert violations(package_imports(), FLOORS) == []


def test_no_two_packages_import_each_other():
    assert package_cycle(package_imports()) == []


def test_sources_return_plain_records():
    """No HTTP client builds frames: typing rows is `schemas`' work."""
    framed = {
        path.relative_to(PACKAGE).as_posix(): sorted(libraries & {"polars", "pandera"})
        for path in sorted((PACKAGE / "sources").rglob("*.py"))
        if (libraries := {name.split(".")[0] for name in libraries_of(path.read_text(encoding="utf-8"))})
        & {"polars", "pandera"}
    }
    assert framed == {}


def libraries_of(source: str) -> set[str]:
    """Every absolute module name `source` imports, at any depth."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            found.add(node.module)
    return found


def test_every_package_has_a_floor():
    assert {package_of(module) for module in package_imports()} <= set(FLOORS)


def test_the_known_exceptions_still_happen():
    """An exception that no longer happens is taken off the list, so it cannot come back unseen."""
    imports = package_imports()
    assert [pair for pair in KNOWN if pair[1] not in imports.get(pair[0], set())] == []


def test_imports_are_read_at_any_depth_and_relative_ones_resolved():
    source = (
        "import os\n"
        "from ciwatch_etl.schemas.raw_table import RawTable\n"
        "from . import staged\n"
        "def late():\n"
        "    from ciwatch_etl.warehouse import build\n"
    )
    modules = frozenset({"ciwatch_etl.landing.staged", "ciwatch_etl.warehouse.build"})
    assert imports_of(source, "ciwatch_etl.landing.records", modules) == {
        "ciwatch_etl.schemas.raw_table", "ciwatch_etl.landing.staged", "ciwatch_etl.warehouse.build",
    }


@pytest.mark.parametrize(
    ("imports", "says"),
    [
        ({"ciwatch_etl.sources.fake": {"ciwatch_etl.landing.records"}},
         "ciwatch_etl.sources.fake (floor 1, sources) imports ciwatch_etl.landing.records (floor 3, landing): "
         "a lower floor may not import a higher one"),
        ({"ciwatch_etl.metrics.fake": {"ciwatch_etl.report.data"}},
         "ciwatch_etl.metrics.fake imports ciwatch_etl.report.data: report reads metrics, never the reverse"),
        ({"ciwatch_etl.simulator.fake": {"ciwatch_etl.sources.http"}},
         "ciwatch_etl.simulator.fake imports ciwatch_etl.sources.http: the simulator imports nothing of ours "
         "outside itself"),
        ({"ciwatch_etl.newthing": {"ciwatch_etl.environment"}},
         "ciwatch_etl.newthing imports ciwatch_etl.environment: newthing has no floor"),
    ],
)
def test_a_wrong_import_is_named_with_its_module(imports: dict[str, set[str]], says: str):
    assert violations(imports, FLOORS) == [says]


def test_a_cycle_between_packages_is_named():
    imports = {"ciwatch_etl.schemas.fake": {"ciwatch_etl.sources.fake"},
               "ciwatch_etl.sources.fake": {"ciwatch_etl.schemas.fake"}}
    assert sorted(set(package_cycle(imports))) == ["schemas", "sources"]


def test_imports_within_a_floor_and_downwards_pass():
    imports = {"ciwatch_etl.report.fake": {"ciwatch_etl.metrics.fake", "ciwatch_etl.environment"},
               "ciwatch_etl.assets.fake": {"ciwatch_etl.resources", "ciwatch_etl.landing.records"}}
    assert violations(imports, FLOORS) == [] and package_cycle(imports) == []
