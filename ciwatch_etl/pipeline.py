"""Run the Dagster assets in-process for the command line (`run`, `demo`, `load-usage`)."""

from __future__ import annotations

import logging
import os
import uuid
import warnings
from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import dagster as dg

from dagster._core.events import RunFailureReason

from ciwatch_etl.assets.circleci_usage import LANDED_FILE
from ciwatch_etl.data_folder import DataFolderError, writable_folder
from ciwatch_etl.definitions import build_definitions
from ciwatch_etl.landing.tables import CIRCLECI_USAGE_JOBS
from ciwatch_etl.interrupts import Interrupted
from ciwatch_etl.resources import DataFolderResource
from ciwatch_etl.run_log import run_log
from ciwatch_etl.environment import Paths, default_home
from ciwatch_etl.source_status import NothingConfiguredError, pull_status, skip_lines

# Dagster marks some options we rely on (backfill policies) as beta; users cannot act on it.
warnings.filterwarnings("ignore", category=dg.BetaWarning)

# The name `dg.materialize` gives its runs: the Dagster UI shows ours as it always has.
JOB_NAME = "__ephemeral_asset_job__"

__all__ = [
    "DataFolderError", "NothingConfiguredError", "PipelineError", "RunSummary", "SelectionError", "StepFailure",
    "StepResult", "materialize", "materialize_usage_files",
]


@dataclass(frozen=True)
class StepFailure:
    step: str
    error: str  # the class of the error our code raised (not Dagster's wrapper), e.g. UsageFileError
    message: str  # that error's own message, as raised


class PipelineError(RuntimeError):
    """A run that did not succeed: names each failed step and why (`failures`, one per step)."""

    def __init__(self, message: str, failures: Sequence[StepFailure] = ()):
        super().__init__(message)
        self.failures = tuple(failures)


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
    job_selection = dg.AssetSelection.assets(*(keys - unconfigured)) if unconfigured else wanted
    run = _execute(defs, job_selection, asset_config, tags, instance)
    return RunSummary(run.steps, skipped, run.run_id)


def materialize_usage_files(
    files: Sequence[Path], on_landed: Callable[[str, int], None], *,
    resources: Mapping[str, dg.ConfigurableResource] | None = None,
) -> StepResult:
    """Materialize `circleci_usage_jobs` from local usage files, named in its run config, and nothing
    else: Dagster records the load as it records an export pull. `on_landed(source, rows)` is told
    of each file as it lands. Returns the materialization's step, with its row counts."""
    handler = _LandedFiles(on_landed)
    listener = logging.Logger("ciwatch_etl.pipeline.landed_files", logging.INFO)
    listener.addHandler(handler)
    run = _execute(
        build_definitions(resources),
        dg.AssetSelection.assets(CIRCLECI_USAGE_JOBS.name),
        {CIRCLECI_USAGE_JOBS.name: {"files": [str(f) for f in files]}},
        instance=None,
        listeners={"landed_files": dg.LoggerDefinition(lambda _init_context: listener)},
    )
    return run.steps[0]


class _LandedFiles(logging.Handler):
    """Hands each file landed (a log record carrying `LANDED_FILE`) to a callback."""

    def __init__(self, on_landed: Callable[[str, int], None]):
        super().__init__(logging.INFO)
        self.on_landed = on_landed

    def emit(self, record: logging.LogRecord) -> None:
        landed = getattr(record, LANDED_FILE, None)
        if landed is not None:
            self.on_landed(*landed)


def _execute(
    defs: dg.Definitions, selection: dg.AssetSelection, asset_config: dict[str, dict] | None,
    tags: dict[str, str] | None = None, instance: dg.DagsterInstance | None = None,
    listeners: Mapping[str, dg.LoggerDefinition] | None = None,
) -> RunSummary:
    """Run `selection` of `defs` in this process, logging to the terminal and the run log (and to
    `listeners`); one step per asset materialized, or `PipelineError` naming each failed step."""
    paths = _data_folder(defs.resources["data_folder"])
    run_id = str(uuid.uuid4())
    with (
        nullcontext(instance) if instance is not None else _instance() as run_instance,
        run_log(paths, run_id) as log,
    ):
        loggers = {**log.loggers, **(listeners or {})}
        job = dg.Definitions(
            jobs=[dg.define_asset_job(JOB_NAME, selection=selection)],
            assets=list(defs.assets or []),
            resources=defs.resources,
            loggers=loggers,
        ).resolve_job_def(JOB_NAME)
        result = job.execute_in_process(
            run_config={
                "loggers": {name: {} for name in loggers},  # Dagster starts only the loggers named here
                "ops": {name: {"config": config} for name, config in (asset_config or {}).items()},
            },
            instance=run_instance,
            tags=tags or {},
            raise_on_error=False,
            run_id=run_id,
        )
    if not result.success:
        failures = _step_failures(result)
        stopped = next((f for f in failures if f.error == Interrupted.__name__), None)
        if stopped is not None:  # a step that names the signal (see `Interrupted`)
            raise Interrupted(stopped.message.removeprefix("stopped by "))
        if _interrupted(result):
            raise Interrupted()
        raise PipelineError(f"{_failure_summary(result)}\nrun log (every event, with stack traces): {log.path}", failures)
    # A ranged run reports one materialization per partition, all with the run's metadata.
    steps: dict[str, StepResult] = {}
    for event in result.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        name = materialization.asset_key.to_user_string()
        steps[name] = StepResult(name, {k: v.value for k, v in materialization.metadata.items()})
    return RunSummary(list(steps.values()), [], result.run_id)


def _step_failures(result: dg.ExecuteInProcessResult) -> list[StepFailure]:
    failures = []
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data.error is not None:
            raised = _raised(event.step_failure_data.error)
            # The message is `module.Class: text` and a newline (`traceback.format_exception_only`).
            failures.append(StepFailure(event.step_key, raised.cls_name, raised.message.partition(": ")[2].rstrip("\n")))
    return failures


def _raised(error):
    """The error our code raised: the cause Dagster wraps as "Error occurred while executing op"."""
    return getattr(error, "cause", None) or error


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


def _data_folder(data_folder: DataFolderResource) -> Paths:
    """The data folder the run writes (its run log too), made now: one that cannot be is one line,
    not a failed step per asset."""
    home = data_folder.home.get_value() if isinstance(data_folder.home, dg.EnvVar) else data_folder.home
    paths = Paths(Path(home or default_home()).expanduser().resolve())
    writable_folder(paths.home, "data folder")
    return paths


def _reason(error: object) -> str:
    """What failed a step, on one line: the error our code raised (the cause Dagster wraps as
    "Error occurred while executing op"), not the wrapper; a `dg.Failure` by its description alone,
    since our code raises it to say what failed."""
    if error is None:
        return "failed"
    raised = _raised(error)
    message = " ".join(raised.message.split())
    if raised.cls_name == dg.Failure.__name__:
        message = message.partition(": ")[2] or message
    return message
