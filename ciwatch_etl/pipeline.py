"""Run the Dagster assets in-process for the command line (`run`, `demo`, `load-usage`)."""

from __future__ import annotations

import os
import uuid
import warnings
from collections.abc import Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import dagster as dg

from dagster._core.events import RunFailureReason

from ciwatch_etl.data_folder import DataFolderError, writable_folder
from ciwatch_etl.definitions import build_definitions
from ciwatch_etl.interrupts import Interrupted
from ciwatch_etl.resources import WarehouseResource
from ciwatch_etl.run_log import run_log
from ciwatch_etl.settings import Paths, default_home
from ciwatch_etl.source_status import NothingConfiguredError, pull_status, skip_lines

# Dagster marks some options we rely on (backfill policies) as beta; users cannot act on it.
warnings.filterwarnings("ignore", category=dg.BetaWarning)

# The name `dg.materialize` gives its runs: the Dagster UI shows ours as it always has.
JOB_NAME = "__ephemeral_asset_job__"

__all__ = ["DataFolderError", "NothingConfiguredError", "PipelineError", "RunSummary", "SelectionError", "StepResult", "materialize"]


class PipelineError(RuntimeError):
    """A run that did not succeed: names each failed step and why."""


class SelectionError(ValueError):
    """An asset selection Dagster cannot read or resolve (an unknown asset, a bad expression)."""


@dataclass(frozen=True)
class StepResult:
    asset: str
    metadata: dict[str, object]


@dataclass(frozen=True)
class RunSummary:
    steps: list[StepResult]  # one per asset materialized
    skipped: list[str] = field(default_factory=list)  # one line per source not pulled, and why
    run_id: str = ""


def _instance() -> dg.DagsterInstance:
    """The persistent instance when DAGSTER_HOME is set (so `dagster dev` sees the runs), else ephemeral."""
    return dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()


def materialize(
    selection: str | None = None,
    since: date | None = None,
    until: date | None = None,
    asset_config: dict[str, dict] | None = None,
    *,
    resources: Mapping[str, dg.ConfigurableResource] | None = None,
    instance: dg.DagsterInstance | None = None,
    require_a_source: bool = False,
) -> RunSummary:
    """Materialize the selected assets (default: all) for the day range [since, until].

    Definitions are built now, so sources configured in the environment at this moment are used;
    `resources` replaces some of them by name. Pulls that are not configured are left out of the
    run (they would make Dagster skip the models downstream) and reported in `skipped`; with
    `require_a_source`, a selection whose source pulls are all unconfigured raises
    `NothingConfiguredError` instead of running. A run that SIGTERM or SIGINT stopped raises
    `Interrupted`. `asset_config` maps an asset (op) name to its
    run config, e.g. a shorter first pull. `instance` defaults to DAGSTER_HOME's, else an
    ephemeral one.
    """
    defs = build_definitions(resources)
    assets = list(defs.assets or [])
    graph = defs.resolve_asset_graph()
    try:
        wanted = dg.AssetSelection.from_coercible(selection) if selection else dg.AssetSelection.all()
        keys = wanted.resolve(graph)
    except dg.DagsterError as exc:
        reason = " ".join(str(exc.__cause__ or exc).split())
        raise SelectionError(f"{selection!r}: {reason}") from None
    pulls = [p for p in pull_status(assets, defs.resources) if p.keys & keys]
    skipped = skip_lines(pulls)
    if require_a_source and pulls and all(p.missing for p in pulls):
        raise NothingConfiguredError("\n".join(skipped))
    unconfigured = {key for p in pulls if p.missing for key in p.keys}
    tags = {}
    if since and until:
        tags = {
            "dagster/asset_partition_range_start": since.isoformat(),
            "dagster/asset_partition_range_end": until.isoformat(),
        }
    paths = _data_folder(defs.resources["warehouse"])
    run_id = str(uuid.uuid4())
    with (
        nullcontext(instance) if instance is not None else _instance() as run_instance,
        run_log(paths, run_id) as log,
    ):
        job = dg.Definitions(
            jobs=[dg.define_asset_job(JOB_NAME, selection=(
                dg.AssetSelection.assets(*(keys - unconfigured)) if unconfigured else wanted))],
            assets=assets,
            resources=defs.resources,
            loggers=log.loggers,
        ).resolve_job_def(JOB_NAME)
        result = job.execute_in_process(
            run_config={
                "loggers": {name: {} for name in log.loggers},  # Dagster starts only the loggers named here
                "ops": {name: {"config": config} for name, config in (asset_config or {}).items()},
            },
            instance=run_instance,
            tags=tags,
            raise_on_error=False,
            run_id=run_id,
        )
    if not result.success:
        if _interrupted(result):
            raise Interrupted()
        raise PipelineError(f"{_failure_summary(result)}\nrun log (every event, with stack traces): {log.path}")
    # A ranged run reports one materialization per partition, all with the run's metadata.
    steps: dict[str, StepResult] = {}
    for event in result.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        name = materialization.asset_key.to_user_string()
        steps[name] = StepResult(name, {k: v.value for k, v in materialization.metadata.items()})
    return RunSummary(list(steps.values()), skipped, result.run_id)


def _interrupted(result: dg.ExecuteInProcessResult) -> bool:
    """Dagster ends a run that SIGTERM or SIGINT interrupted as cancelled or unexpectedly terminated."""
    for event in result.all_events:
        if event.event_type == dg.DagsterEventType.RUN_CANCELED:
            return True
        if event.is_run_failure and event.job_failure_data.failure_reason == RunFailureReason.UNEXPECTED_TERMINATION:
            return True
    return False


def _failure_summary(result: dg.ExecuteInProcessResult) -> str:
    """A line per failed step; a run that failed before any step (e.g. a resource) by its own error."""
    lines = [f"{e.step_key}: {_reason(e.step_failure_data.error)}" for e in result.all_events if e.is_step_failure]
    if not lines:
        lines = [_reason(e.event_specific_data.error) for e in result.all_events
                 if e.is_run_failure and getattr(e.event_specific_data, "error", None)]
    return "\n".join(lines) or "the run failed"


def _data_folder(warehouse: WarehouseResource) -> Paths:
    """The data folder the run writes (its run log too), made now: one that cannot be is one line,
    not a failed step per asset."""
    home = warehouse.home.get_value() if isinstance(warehouse.home, dg.EnvVar) else warehouse.home
    paths = Paths(Path(home or default_home()).expanduser().resolve())
    writable_folder(paths.home, "data folder")
    return paths


def _reason(error: object) -> str:
    """What failed a step, on one line: the error our code raised (the cause Dagster wraps as
    "Error occurred while executing op"), not the wrapper; a `dg.Failure` by its description alone,
    since our code raises it to say what failed."""
    if error is None:
        return "failed"
    raised = getattr(error, "cause", None) or error
    message = " ".join(raised.message.split())
    if raised.cls_name == dg.Failure.__name__:
        message = message.partition(": ")[2] or message
    return message
