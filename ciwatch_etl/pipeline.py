"""Run the Dagster assets in-process for the command line (`run`, `demo`, `load-usage`)."""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import date

import dagster as dg

from dagster._core.events import RunFailureReason

from ciwatch_etl.definitions import build_definitions
from ciwatch_etl.interrupts import Interrupted
from ciwatch_etl.source_status import NothingConfiguredError, pull_status, skip_lines

# Dagster marks some options we rely on (backfill policies) as beta; users cannot act on it.
warnings.filterwarnings("ignore", category=dg.BetaWarning)

STACK_TRACE = "\nStack Trace:"  # where Dagster's log of a failure starts listing frames

__all__ = ["NothingConfiguredError", "PipelineError", "RunSummary", "SelectionError", "StepResult", "materialize"]


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
    with nullcontext(instance) if instance is not None else _instance() as run_instance, _console_without_stacks():
        result = dg.materialize(
            assets,
            instance=run_instance,
            resources=defs.resources,
            selection=dg.AssetSelection.assets(*(keys - unconfigured)) if unconfigured else wanted,
            tags=tags,
            raise_on_error=False,
            # Progress on the console: our INFO lines (exports, files landed), not Dagster's DEBUG events.
            run_config={
                "loggers": {"console": {"config": {"log_level": "INFO"}}},
                "ops": {name: {"config": config} for name, config in (asset_config or {}).items()},
            },
        )
    if not result.success:
        if _interrupted(result):
            raise Interrupted()
        raise PipelineError(_failure_summary(result))
    # A ranged run reports one materialization per partition, all with the run's metadata.
    steps: dict[str, StepResult] = {}
    for event in result.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        name = materialization.asset_key.to_user_string()
        steps[name] = StepResult(name, {k: v.value for k, v in materialization.metadata.items()})
    return RunSummary(list(steps.values()), skipped, result.run_id)


class _ConsoleWithoutStacks(logging.Logger):
    """Dagster's console logger for our runs: a failure's message without its stack trace. The
    command line reports what failed on one line; the run's event log keeps the whole error."""

    def handle(self, record: logging.LogRecord) -> None:
        if isinstance(record.msg, str) and STACK_TRACE in record.msg:
            record.msg = record.msg.split(STACK_TRACE, 1)[0].rstrip()
        super().handle(record)


@contextmanager
def _console_without_stacks() -> Iterator[None]:
    """Dagster makes its console logger of `logging.getLoggerClass()` when a run starts."""
    previous = logging.getLoggerClass()
    logging.setLoggerClass(_ConsoleWithoutStacks)
    try:
        yield
    finally:
        logging.setLoggerClass(previous)


def _interrupted(result: dg.ExecuteInProcessResult) -> bool:
    """Dagster ends a run that SIGTERM or SIGINT interrupted as cancelled or unexpectedly terminated."""
    for event in result.all_events:
        if event.event_type == dg.DagsterEventType.RUN_CANCELED:
            return True
        if event.is_run_failure and event.job_failure_data.failure_reason == RunFailureReason.UNEXPECTED_TERMINATION:
            return True
    return False


def _failure_summary(result: dg.ExecuteInProcessResult) -> str:
    lines = []
    for event in result.all_events:
        if event.is_step_failure:
            lines.append(f"{event.step_key}: {_reason(event.step_failure_data.error)}")
    return "\n".join(lines) or "the run failed"


def _reason(error: object) -> str:
    """What failed a step, on one line: the error our code raised (the cause Dagster wraps as
    "Error occurred while executing op"), not the wrapper."""
    if error is None:
        return "failed"
    raised = getattr(error, "cause", None) or error
    return " ".join(raised.message.split())
