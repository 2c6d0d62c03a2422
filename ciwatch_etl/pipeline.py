"""Run the Dagster assets in-process for the command line (`run`, `demo`, `load-usage`)."""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from datetime import date

import dagster as dg

from ciwatch_etl.definitions import build_definitions

# Dagster marks some options we rely on (backfill policies) as beta; users cannot act on it.
warnings.filterwarnings("ignore", category=dg.BetaWarning)


class PipelineError(RuntimeError):
    """A run that did not succeed: names each failed step and why."""


class SelectionError(ValueError):
    """An asset selection Dagster cannot read or resolve (an unknown asset, a bad expression)."""


@dataclass(frozen=True)
class StepResult:
    asset: str
    metadata: dict[str, object]


def _instance() -> dg.DagsterInstance:
    """The persistent instance when DAGSTER_HOME is set (so `dagster dev` sees the runs), else ephemeral."""
    return dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()


def materialize(
    selection: str | None = None,
    since: date | None = None,
    until: date | None = None,
    asset_config: dict[str, dict] | None = None,
) -> list[StepResult]:
    """Materialize the selected assets (default: all) for the day range [since, until].

    Definitions are built now, so sources configured in the environment at this moment are used.
    `asset_config` maps an asset (op) name to its run config, e.g. a shorter first pull.
    """
    defs = build_definitions()
    tags = {}
    if since and until:
        tags = {
            "dagster/asset_partition_range_start": since.isoformat(),
            "dagster/asset_partition_range_end": until.isoformat(),
        }
    with _instance() as instance:
        try:
            result = dg.materialize(
                list(defs.assets or []),
                instance=instance,
                resources=defs.resources,
                selection=selection,
                tags=tags,
                raise_on_error=False,
                # Progress on the console: our INFO lines (exports, files landed), not Dagster's DEBUG events.
                run_config={
                    "loggers": {"console": {"config": {"log_level": "INFO"}}},
                    "ops": {name: {"config": config} for name, config in (asset_config or {}).items()},
                },
            )
        except dg.DagsterError as exc:
            # A step's failure is an event (raise_on_error=False): what raises is the job's setup.
            if selection is None:
                raise
            reason = " ".join(str(exc.__cause__ or exc).split())
            raise SelectionError(f"{selection!r}: {reason}") from None
    if not result.success:
        raise PipelineError(_failure_summary(result))
    # A ranged run reports one materialization per partition, all with the run's metadata.
    steps: dict[str, StepResult] = {}
    for event in result.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        name = materialization.asset_key.to_user_string()
        steps[name] = StepResult(name, {k: v.value for k, v in materialization.metadata.items()})
    return list(steps.values())


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
