"""Where a repo's default branch comes from, on a hand-built CircleCI history (June 2026).

legacy (gh/acme/legacy) builds on master, its real default branch:
    L1 06-02 12:00  build ok       finished 12:10
    L2 06-04 12:00  build failed   finished 12:10   red from 06-04 12:10
    L3 06-05 12:00  build ok       finished 12:10   green again: recovered after 86400 s
shop (gh/acme/shop) builds on trunk: S1 06-03 09:00, ok. CircleCI is never asked about shop.

A repo's default branch is its own ciwatch.toml default_branch, else its API's, else the
[repos] default_branch, else main:
    nothing known              legacy main (builtin): none of its 3 runs on it, no recovery
    API says legacy: master    legacy master (api): 3 runs on it, 1 recovery of 86400 s
    [repos."legacy"] release   legacy release (ciwatch_toml_repo), whatever the API says: none again
    [repos] trunk              shop trunk (ciwatch_toml_default), its API unknown: 1 run on it;
                               legacy stays master (api): a blanket default does not beat the API
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
from delivery_history import run
from lake_rows import write_rows

from ciwatch_etl.config_file import load_config
from ciwatch_etl.landing.records import SourceBatch, land_batches
from ciwatch_etl.landing.staged import Source
from ciwatch_etl.landing.tables import CIRCLECI_USAGE_JOBS
from ciwatch_etl.schemas.circleci_projects import PROJECTS
from ciwatch_etl.environment import Paths
from ciwatch_etl.warehouse.build import build_warehouse
from ciwatch_etl.warehouse.build_report import BuildReport

HISTORY = [
    *run("L1", "legacy", "build", "2026-06-02 12:00:00", [("test", "success", 10, 600)], branch="master"),
    *run("L2", "legacy", "build", "2026-06-04 12:00:00", [("test", "failed", 10, 600)], branch="master"),
    *run("L3", "legacy", "build", "2026-06-05 12:00:00", [("test", "success", 10, 600)], branch="master"),
    *run("S1", "shop", "build", "2026-06-03 09:00:00", [("test", "success", 10, 300)], branch="trunk"),
]


def legacy_project(default_branch: str) -> dict:
    """GET /project/gh/acme/legacy, as the spec shapes it."""
    return {"slug": "gh/acme/legacy", "name": "legacy", "id": "3f0c1a52-0000-4000-8000-000000000001",
            "organization_name": "acme", "organization_slug": "gh/acme",
            "organization_id": "3f0c1a52-0000-4000-8000-000000000002",
            "vcs_info": {"vcs_url": "https://github.com/acme/legacy", "provider": "GitHub",
                         "default_branch": default_branch}}


def land_projects(paths: Paths, *projects: dict) -> None:
    batch = SourceBatch(PROJECTS.frame(list(projects)), Source("GET project/{project-slug}", "projects"))
    land_batches(paths.lake, PROJECTS.table, PROJECTS.schema, [batch], datetime(2026, 6, 15))


def build(tmp_path: Path, name: str, *projects: dict, toml: str | None = None) -> tuple[Paths, BuildReport]:
    paths = Paths(tmp_path / name)
    write_rows(paths.lake, CIRCLECI_USAGE_JOBS, HISTORY)
    if projects:
        land_projects(paths, *projects)
    cwd = tmp_path / f"{name}-cwd"
    cwd.mkdir()
    if toml is not None:
        (cwd / "ciwatch.toml").write_text(toml)
    report = build_warehouse(paths, 0.01, config=load_config(paths.home, cwd))
    assert report.passed, [(m.name, t.name) for m in report.models for t in m.tests if not t.passed]
    return paths, report


def branches(paths: Paths) -> dict[str, tuple]:
    """Per repo: default branch, its source, runs on it, and the recovery seconds of its red streaks."""
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        repos = con.execute("select repo, default_branch, default_branch_source from int_repos_configured").fetchall()
        on_default = dict(con.execute(
            "select repo, count(*) filter (where is_default_branch) from fct_ci_runs group by repo").fetchall())
        recoveries = dict(con.execute(
            "select repo, list(recovery_seconds order by recovery_seconds) from mart_ci_recoveries group by repo"
        ).fetchall())
    return {repo: (branch, source, on_default[repo], recoveries.get(repo, [])) for repo, branch, source in repos}


def test_without_the_api_a_repo_on_master_gets_no_recoveries(tmp_path: Path):
    paths, _ = build(tmp_path, "nothing-known")
    assert branches(paths) == {"legacy": ("main", "builtin", 0, []), "shop": ("main", "builtin", 0, [])}


def test_the_api_default_branch_gives_a_repo_on_master_its_recoveries(tmp_path: Path):
    paths, _ = build(tmp_path, "api", legacy_project("master"))
    assert branches(paths) == {"legacy": ("master", "api", 3, [86400.0]), "shop": ("main", "builtin", 0, [])}


def test_a_repos_own_ciwatch_toml_default_branch_wins_over_the_api(tmp_path: Path):
    paths, _ = build(tmp_path, "override", legacy_project("master"),
                     toml='[repos."legacy"]\ndefault_branch = "release"\n')
    assert branches(paths)["legacy"] == ("release", "ciwatch_toml_repo", 0, [])


def test_without_the_api_the_ciwatch_toml_default_applies_but_never_over_the_api(tmp_path: Path):
    paths, _ = build(tmp_path, "defaults", legacy_project("master"), toml='[repos]\ndefault_branch = "trunk"\n')
    assert branches(paths) == {"legacy": ("master", "api", 3, [86400.0]),
                               "shop": ("trunk", "ciwatch_toml_default", 1, [])}


def test_a_default_branch_changed_at_the_api_rebuilds_what_reads_it_and_nothing_else(tmp_path: Path):
    paths, _ = build(tmp_path, "nightly", legacy_project("main"))
    assert branches(paths)["legacy"] == ("main", "api", 0, [])
    quiet = build_warehouse(paths, 0.01, config=load_config(paths.home, tmp_path / "nightly-cwd"))
    land_projects(paths, legacy_project("main"))  # pulled again, unchanged: the lake file stays
    unchanged = build_warehouse(paths, 0.01, config=load_config(paths.home, tmp_path / "nightly-cwd"))
    land_projects(paths, legacy_project("master"))  # the repository's default branch was renamed
    changed = build_warehouse(paths, 0.01, config=load_config(paths.home, tmp_path / "nightly-cwd"))
    for report in (quiet, unchanged):
        assert report.model("mart_ci_performance_daily").rebuilt_from == "none"
    assert changed.model("mart_ci_performance_daily").rebuilt_from == "all"
    assert changed.model("int_ci_runs").rebuilt_from == "none"  # CircleCI names come from the slug
    assert branches(paths)["legacy"] == ("master", "api", 3, [86400.0])
