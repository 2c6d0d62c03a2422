"""Green means data: unconfigured sources are skipped (never a success), freshness checks warn,
every asset has an owner, and the run summary never calls landed rows skipped."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from rich.console import Console

from ciwatch_etl.resources import CircleCIResource, GocdnextResource, SourceCraftResource, DataFolderResource
from ciwatch_etl.assets.freshness import CHECK_NAME, freshness_checks
from ciwatch_etl.definitions import build_definitions
from ciwatch_etl.pipeline import NothingConfiguredError, RunSummary, StepResult, materialize
from ciwatch_etl.schemas.gocdnext import GOCDNEXT_RUNS
from ciwatch_etl.source_status import Pull, pull_status, skip_lines
from ciwatch_etl.summary import print_run

SETTINGS = (
    "CIRCLECI_TOKEN", "CIRCLECI_ORG_IDS", "CIRCLECI_PROJECT_SLUGS", "SOURCECRAFT_TOKEN",
    "SOURCECRAFT_REPO_IDS", "GOCDNEXT_URL", "GOCDNEXT_TOKEN",
)


@pytest.fixture
def unconfigured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No source settings at all, and a data folder of its own."""
    monkeypatch.chdir(tmp_path)  # no .env from the working tree
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CIWATCH_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def _pull(name: str, source: str, *missing: str) -> Pull:
    return Pull(name, source, frozenset({dg.AssetKey(name)}), missing)


@pytest.mark.parametrize(
    ("pulls", "lines"),
    [
        # every pull of a source skipped: one line, the settings named once each
        ([_pull("a", "circleci", "CIRCLECI_TOKEN", "CIRCLECI_ORG_IDS"), _pull("b", "circleci", "CIRCLECI_TOKEN")],
         ["circleci: skipped, CIRCLECI_TOKEN, CIRCLECI_ORG_IDS not set"]),
        # some pulls of a source run: the skipped one is named
        ([_pull("circleci_usage_jobs", "circleci", "CIRCLECI_ORG_IDS"), _pull("b", "circleci")],
         ["circleci (circleci_usage_jobs): skipped, CIRCLECI_ORG_IDS not set"]),
        # configured sources say nothing
        ([_pull("gocdnext", "gocdnext"), _pull("s", "sourcecraft", "SOURCECRAFT_TOKEN")],
         ["sourcecraft: skipped, SOURCECRAFT_TOKEN not set"]),
        ([_pull("gocdnext", "gocdnext")], []),
    ],
)
def test_skip_lines(pulls: list[Pull], lines: list[str]):
    assert skip_lines(pulls) == lines


def test_status_reads_settings_given_through_env_vars(unconfigured: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("GOCDNEXT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("GOCDNEXT_TOKEN", "secret-value")
    defs = build_definitions()
    status = {p.name: p.missing for p in pull_status(defs.assets, defs.resources)}
    assert status["gocdnext"] == ()
    assert status["sourcecraft_ci_runs"] == ("SOURCECRAFT_TOKEN", "SOURCECRAFT_REPO_IDS")
    assert status["circleci_usage_jobs"] == ("CIRCLECI_TOKEN", "CIRCLECI_ORG_IDS")
    assert set(status) == {"circleci_usage_jobs", "circleci_insights", "circleci_pipeline_history",
                           "circleci_projects", "sourcecraft_ci_runs", "gocdnext"}


def test_nothing_configured_runs_nothing_and_says_why(unconfigured: Path, tmp_path: Path):
    with dg.DagsterInstance.ephemeral() as instance:
        with pytest.raises(NothingConfiguredError) as raised:
            materialize(instance=instance, require_a_source=True)
        assert instance.get_runs() == []
    assert str(raised.value).splitlines() == [
        "circleci: skipped, CIRCLECI_TOKEN, CIRCLECI_ORG_IDS, CIRCLECI_PROJECT_SLUGS not set",
        "sourcecraft: skipped, SOURCECRAFT_TOKEN, SOURCECRAFT_REPO_IDS not set",
        "gocdnext: skipped, GOCDNEXT_URL, GOCDNEXT_TOKEN not set",
    ]
    assert not unconfigured.exists()


def test_an_unconfigured_source_is_a_skip_in_the_event_log(tmp_path: Path):
    """Run as the UI's "materialize" would: the source's step runs, materializes nothing, and
    Dagster skips what is downstream of it; no partition of the usage table turns green."""
    defs = build_definitions({
        "data_folder": DataFolderResource(home=str(tmp_path / "home")),
        "circleci": CircleCIResource(), "sourcecraft": SourceCraftResource(), "gocdnext": GocdnextResource(),
    })
    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize(
            list(defs.assets), instance=instance, resources=defs.resources, partition_key="2025-08-01",
            selection=dg.AssetSelection.assets("circleci_usage_jobs", "sourcecraft_runs", "fct_ci_runs")
            .required_multi_asset_neighbors(),
        )
        materializations = [
            record for key in ("circleci_usage_jobs", "sourcecraft_runs", "fct_ci_runs")
            for record in instance.fetch_materializations(dg.AssetKey(key), limit=10).records
        ]
        skipped_steps = {e.step_key for e in result.all_events if e.event_type_value == "STEP_SKIPPED"}
        missing = instance.get_materialized_partitions(dg.AssetKey("circleci_usage_jobs"))
    assert result.success
    assert materializations == [] and missing == set()
    assert "sql_models" in skipped_steps  # the models wait for data, they do not rebuild on nothing


def _land_gocdnext_runs(lake: Path, created: datetime) -> None:
    target = GOCDNEXT_RUNS.partition_file(lake, created.date().isoformat())
    target.parent.mkdir(parents=True)
    duckdb.sql(f"copy (select 'r1' as run_id, '{created:%Y-%m-%d %H:%M:%S}'::timestamp as created_at) "
               f"to '{target}' (format parquet)")


@pytest.mark.parametrize(("age", "passed"), [(timedelta(hours=20), True), (timedelta(days=5), False)])
def test_freshness_check_warns_on_stale_data_and_passes_on_fresh(tmp_path: Path, age: timedelta, passed: bool):
    home = tmp_path / "home"
    newest = datetime.now(UTC).replace(tzinfo=None, microsecond=0) - age
    _land_gocdnext_runs(home / "lake", newest)
    [check] = [c for c in freshness_checks() if dg.AssetKey("gocdnext_runs") in {k.asset_key for k in c.check_keys}]
    result = dg.materialize(
        [dg.AssetSpec("gocdnext_runs"), check],
        resources={"data_folder": DataFolderResource(home=str(home))},
        selection=dg.AssetSelection.checks(check),
    )
    [evaluation] = result.get_asset_check_evaluations()
    assert result.success  # a stale source warns, it does not fail the run
    assert (evaluation.check_name, evaluation.passed, evaluation.severity) == (
        CHECK_NAME, passed, dg.AssetCheckSeverity.WARN)
    assert evaluation.metadata["newest_at"].value == f"{newest:%Y-%m-%d %H:%M:%S}"
    assert ("within 3 days" if passed else "older than 3 days") in evaluation.description


def test_every_source_has_a_freshness_check_and_every_asset_an_owner(unconfigured: Path):
    defs = build_definitions()
    graph = defs.resolve_asset_graph()
    fresh = {k.asset_key.to_user_string() for k in graph.asset_check_keys if k.name == CHECK_NAME}
    assert fresh == {"circleci_usage_jobs", "circleci_workflows", "sourcecraft_runs", "gocdnext_runs"}
    specs = {spec.key.to_user_string(): spec for a in defs.assets for spec in a.specs}
    assert all(spec.owners == ["team:data-platform"] for spec in specs.values())
    for name in ("circleci_usage_jobs", "circleci_insights_workflow_runs", "sourcecraft_runs", "gocdnext_runs"):
        assert "polars" in specs[name].kinds, name  # they land through polars and pandera
    assert "polars" not in specs["fct_credit_usage_daily"].kinds  # the SQL models are DuckDB only


def test_the_nightly_schedule_pulls_only_configured_sources(unconfigured: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("GOCDNEXT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("GOCDNEXT_TOKEN", "a-token")
    defs = build_definitions()
    schedule = defs.resolve_schedule_def("nightly_schedule")
    context = dg.build_schedule_context(scheduled_execution_time=datetime(2026, 11, 22, 2, 0))
    [request] = schedule.evaluate_tick(context).run_requests
    keys = {k.to_user_string() for k in request.asset_selection}
    assert {"gocdnext_runs", "gocdnext_projects", "fct_ci_runs"} <= keys
    assert not {"circleci_usage_jobs", "sourcecraft_runs"} & keys
    checked = {c.asset_key.to_user_string() for c in request.asset_check_keys}
    assert {"gocdnext_runs", "fct_ci_runs"} <= checked and checked <= keys  # no check of a source not pulled
    # The job can run exactly that: every output of each multi-asset it keeps is selected.
    subset = defs.resolve_job_def("nightly").get_subset(
        asset_selection=set(request.asset_selection), asset_check_selection=set(request.asset_check_keys))
    assert {n.name for n in subset.nodes} == {"gocdnext", "sql_models", "gocdnext_runs_is_fresh"}
    # Only the usage export is partitioned: without it the run asks for no day range.
    assert "dagster/asset_partition_range_start" not in request.tags


def test_landed_rows_are_never_shown_as_skipped():
    """The pull metadata has a `skipped` entry (requests answered 404, as a table): not a skip."""
    run = RunSummary(
        [StepResult("circleci_pipelines", {"rows_read": 392, "rows_landed_new": 392, "rows_landed_changed": 0,
                                           "rows_quarantined": 0, "skipped": "none", "skipped_requests": 0}),
         StepResult("fct_ci_runs", {"dagster/row_count": 3357})],
        skipped=["sourcecraft: skipped, SOURCECRAFT_TOKEN not set"],
    )
    buffer = io.StringIO()
    print_run(run, Console(file=buffer, width=200))
    lines = buffer.getvalue().splitlines()
    [pipelines] = [line for line in lines if "circleci_pipelines" in line]
    assert "392 rows read, 392 new" in pipelines and "skipped" not in pipelines
    assert lines[-1] == "sourcecraft: skipped, SOURCECRAFT_TOKEN not set"
