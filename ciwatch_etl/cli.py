"""The `ciwatch-etl` command line (click; rich for progress and tables).

Every error is one line on stderr, `error: ...`, and an exit code from `exit_codes`; a failed run
also names its run log, where the stack traces are.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import click
from rich.console import Console

from ciwatch_etl.exit_codes import BAD_INPUT, FAILED, OK
from ciwatch_etl.interrupts import INTERRUPTED_EXIT_CODE, Interrupted, stop_on_signals
from ciwatch_etl.metrics.command import metrics
from ciwatch_etl.report.command import report
from ciwatch_etl.environment import check_settings, day_in_range, load_env_file

console = Console(stderr=True)  # progress, notes and errors
out = Console()  # what a command produced: run summaries go to stdout, so they can be piped or saved


def _fail(message: str, code: int) -> None:
    """Print an error unwrapped and without markup (paths and server text are shown as they are)."""
    console.print("error: " + message, style="red", markup=False, soft_wrap=True, highlight=False)
    sys.exit(code)


@contextmanager
def _stopping_cleanly() -> Iterator[None]:
    """SIGTERM or Ctrl-C: the command's `finally` blocks remove its scratch folders, then it
    exits with one line (what was published stays, whole; a re-run finishes the rest)."""
    with stop_on_signals():
        try:
            yield
        except Interrupted as stop:
            _fail(f"{stop}: scratch files removed, nothing half-published; run the command again to finish",
                  INTERRUPTED_EXIT_CODE)


def _check_settings() -> None:
    """The settings a run reads from the environment, checked before anything is written."""
    try:
        check_settings()
    except ValueError as exc:
        _fail(str(exc), BAD_INPUT)


class OneLineErrors(click.Group):
    """Click's usage errors as one line (`error: ...` and where to find help), not the usage text."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            returned = super().main(args, prog_name, complete_var, False, **extra)
        except click.exceptions.NoArgsIsHelpError as error:  # a group named alone: its help, as click shows it
            click.echo(error.format_message(), err=True)
            sys.exit(error.exit_code)
        except click.UsageError as error:
            where = f" (see `{error.ctx.command_path} --help`)" if error.ctx else ""
            _fail(error.format_message() + where, error.exit_code)
        except click.ClickException as error:
            _fail(error.format_message(), error.exit_code)
        except click.Abort:
            _fail("aborted", FAILED)
        sys.exit(returned if isinstance(returned, int) else OK)


def _day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)", param_hint=option) from None
    try:
        return day_in_range(day, option)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@click.group(cls=OneLineErrors)
def cli() -> None:
    """CI/CD analytics warehouse: CircleCI, SourceCraft and gocdnext runs and credits in DuckDB."""
    load_env_file()


@cli.command()
@click.option("--home", type=click.Path(path_type=Path), default=None,
              help="Data folder for the demo (default: ~/.ciwatch-demo; never your real CIWATCH_HOME).")
@click.option("--days", type=click.IntRange(1, 365), default=120, show_default=True,
              help="Days of synthetic history, ending yesterday.")
def demo(home: Path | None, days: int) -> None:
    """Start the simulators and run the whole pipeline against them, offline."""
    _check_settings()
    from ciwatch_etl.demo import run_demo
    from ciwatch_etl.pipeline import DataFolderError, PipelineError

    try:
        with _stopping_cleanly():
            run_demo(home or Path.home() / ".ciwatch-demo", days, console, out)
    except DataFolderError as exc:
        _fail(str(exc), FAILED)
    except PipelineError as exc:
        _fail(f"the demo's run failed\n{exc}", FAILED)


@cli.command()
@click.option("--since", help="First day to pull (YYYY-MM-DD, UTC). Default: 2 days before --until.")
@click.option("--until", help="Last day to pull, inclusive (YYYY-MM-DD, UTC). Default: yesterday.")
@click.option("--select", help="Dagster asset selection, e.g. 'circleci_usage_jobs' (default: everything).")
@click.option("--full-refresh", is_flag=True,
              help="Recompute every model from the whole lake (default: only what new data reaches).")
def run(since: str | None, until: str | None, select: str | None, full_refresh: bool) -> None:
    """Pull the configured APIs for a day range and update the warehouse."""
    _check_settings()
    from ciwatch_etl.pipeline import (
        DataFolderError,
        NothingConfiguredError,
        PipelineError,
        SelectionError,
        materialize,
    )
    from ciwatch_etl.summary import print_run

    last = _day(until, "--until") or datetime.now(timezone.utc).date() - timedelta(days=1)
    first = _day(since, "--since") or last - timedelta(days=2)
    if first > last:
        raise click.BadParameter(f"--since {first} is after --until {last}", param_hint="--since")
    try:
        with _stopping_cleanly(), console.status(f"materializing {first} .. {last}"):
            summary = materialize(select, first, last, {"sql_models": {"full_refresh": True}} if full_refresh else None,
                                  require_a_source=True)
    except NothingConfiguredError as exc:
        _fail(f"nothing pulled: no source in the selection is configured\n{exc}", FAILED)
    except DataFolderError as exc:
        _fail(str(exc), FAILED)
    except PipelineError as exc:
        _fail(f"run failed\n{exc}", FAILED)
    except SelectionError as exc:
        raise click.BadParameter(str(exc), param_hint="--select") from None
    print_run(summary, out)


@cli.command("load-usage")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
def load_usage(paths: tuple[Path, ...]) -> None:
    """Load CircleCI usage export files (.csv, .csv.gz, or folders of them), then rebuild the marts."""
    _check_settings()
    from ciwatch_etl.local_usage import LocalUsageError, load_local_usage
    from ciwatch_etl.pipeline import DataFolderError, PipelineError
    from ciwatch_etl.resources import WarehouseBusyError

    try:
        with _stopping_cleanly():
            load_local_usage(list(paths), console)
    except LocalUsageError as exc:
        _fail(str(exc), BAD_INPUT)
    except (DataFolderError, WarehouseBusyError, PipelineError) as exc:
        _fail(str(exc), FAILED)


@cli.command()
@click.option("--port", type=int, default=8765, show_default=True,
              help="CircleCI API port; downloads use port + 1, SourceCraft + 2, gocdnext + 3.")
@click.option("--days", type=click.IntRange(1, 365), default=120, show_default=True)
def simulate(port: int, days: int) -> None:
    """Serve the simulators alone (e.g. for `dagster dev` against them), until Ctrl-C."""
    from ciwatch_etl.demo import simulator_environment
    from ciwatch_etl.simulator.circleci import Simulator
    from ciwatch_etl.simulator.gocdnext import GocdnextSimulator
    from ciwatch_etl.simulator.sourcecraft import SourceCraftSimulator

    try:
        with (
            Simulator(days=days, api_port=port, download_port=port + 1) as circleci,
            SourceCraftSimulator(port=port + 2) as sourcecraft,
            GocdnextSimulator(days=days, port=port + 3) as gocdnext,
        ):
            console.print("Simulators running. Point ciwatch-etl or `dagster dev` at them with:")
            for name, value in simulator_environment(circleci, sourcecraft, gocdnext).items():
                console.print(f"export {name}={value}", soft_wrap=True, markup=False, highlight=False)
            try:
                threading.Event().wait()
            except KeyboardInterrupt:
                pass
    except OSError as exc:  # a port taken, or one the user may not bind
        _fail(f"cannot serve the simulators on ports {port} .. {port + 3}: {exc.strerror or exc}", FAILED)


cli.add_command(metrics)
cli.add_command(report)


def main() -> None:
    cli()
