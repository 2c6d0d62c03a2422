"""Where the events of a run started from the command line go: a line each on the terminal, all of
them in a file.

The terminal (stderr) gets what our steps log at INFO and above (exports created, files landed,
the warehouse published, a wait for the write lock) and the warnings of our modules' Python
loggers (a request retried), one line each. Dagster's own events and lines are left off it: a
failed step comes back as one line in the command's summary, which names the run log. The run
log, `<home>/logs/<run_id>.log`, holds every event of the run at DEBUG, with the full stack trace
of every failure, and our modules' INFO lines; the newest `KEEP_RUN_LOGS` are kept.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
from dagster._core.execution.context.compute import current_execution_context  # set while a step's code runs

from ciwatch_etl.data_folder import writable_folder
from ciwatch_etl.environment import Paths

KEEP_RUN_LOGS = 30
# Our modules' Python loggers (`ciwatch_etl.sources.http` and the like) share this parent.
PACKAGE = "ciwatch_etl"
# What Dagster puts on each log record it hands a logger: the step, the event, the message as logged.
_DAGSTER_META = "dagster_meta"


@dataclass(frozen=True)
class RunLog:
    path: Path
    loggers: Mapping[str, dg.LoggerDefinition]  # for `Definitions(loggers=...)`


def run_log_path(paths: Paths, run_id: str) -> Path:
    return paths.logs / f"{run_id}.log"


@contextmanager
def run_log(paths: Paths, run_id: str) -> Iterator[RunLog]:
    """The run's loggers, writing to stderr and to the run log file (closed when the run is done)."""
    path = run_log_path(paths, run_id)
    _prune(writable_folder(path.parent, "log folder"), KEEP_RUN_LOGS - 1)
    file_handler = logging.FileHandler(path, encoding="utf-8", delay=True)
    file_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    terminal_handler = _terminal_handler(logging.INFO)
    terminal_handler.addFilter(_ours)
    package, level = logging.getLogger(PACKAGE), logging.getLogger(PACKAGE).level
    python_handlers = [file_handler, _terminal_handler(logging.WARNING)]
    if package.getEffectiveLevel() > logging.INFO:
        package.setLevel(logging.INFO)
    for handler in python_handlers:
        package.addHandler(handler)
    try:
        yield RunLog(path, {
            "run_log": _logger_definition("ciwatch_etl.run_log.file", file_handler),
            "terminal": _logger_definition("ciwatch_etl.run_log.terminal", terminal_handler),
        })
    finally:
        for handler in python_handlers:
            package.removeHandler(handler)
        package.setLevel(level)
        file_handler.close()


def _terminal_handler(level: int) -> logging.Handler:
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(level)
    handler.setFormatter(_TerminalFormatter("%(asctime)s %(message)s", "%H:%M:%S"))
    return handler


def _logger_definition(name: str, handler: logging.Handler) -> dg.LoggerDefinition:
    # Not registered with `logging.getLogger`: a run's logger lives and dies with the run.
    logger = logging.Logger(name, logging.DEBUG)
    logger.addHandler(handler)
    logger.propagate = False
    return dg.LoggerDefinition(lambda _init_context: logger, description=f"{name}: see ciwatch_etl.run_log")


def _meta(record: logging.LogRecord) -> Mapping[str, object]:
    return getattr(record, _DAGSTER_META, None) or {}


def _ours(record: logging.LogRecord) -> bool:
    """A line our code logged while a step ran, not an event of Dagster's (failures above all) nor a
    line of its own (such as each step it does not run after a failure): those go to the file. (A
    line a step logs from a thread of its own has no step context either, so it too goes to the
    file only; our steps log from their own thread.)"""
    return _meta(record).get("dagster_event") is None and current_execution_context.get() is not None


class _TerminalFormatter(logging.Formatter):
    """`HH:MM:SS step: message`, the message as logged (Dagster's prefix of job, run id and step left
    off), `warning: ` or `error: ` before it when it is one."""

    def format(self, record: logging.LogRecord) -> str:
        meta = _meta(record)
        message = str(meta.get("orig_message", record.getMessage()))
        if record.levelno >= logging.WARNING:
            message = f"{record.levelname.lower()}: {message}"
        step = meta.get("step_key")
        line = logging.LogRecord(record.name, record.levelno, record.pathname, record.lineno,
                                 f"{step}: {message}" if step else message, (), None)
        line.created = record.created
        return super().format(line)


def _prune(folder: Path, keep: int) -> None:
    """Delete all but the newest `keep` run logs."""
    logs = sorted(folder.glob("*.log"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
    for old in logs[keep:]:
        old.unlink(missing_ok=True)
