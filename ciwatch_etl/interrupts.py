"""SIGTERM and Ctrl-C stop a command cleanly: `finally` blocks run, scratch folders go.

Python's default for SIGTERM is to die on the spot, leaving a load's staging folder and a
pull's downloads behind. `stop_on_signals` turns SIGTERM and SIGINT into `Interrupted`, a
BaseException (as KeyboardInterrupt is) so that no `except Exception` swallows it. While Dagster
runs assets in-process it installs its own handler for both signals and fails the run as
interrupted, again after the op's `finally` blocks ran; `pipeline.materialize` turns that run
into `Interrupted` too.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

SIGNALS = (signal.SIGTERM, signal.SIGINT)
# What a shell reports for a process SIGTERM ended (128 + 15), whichever of the two stopped it.
INTERRUPTED_EXIT_CODE = 143


class Interrupted(BaseException):
    """The command was asked to stop (SIGTERM or SIGINT); names the signal when it is known."""

    def __init__(self, signal_name: str = "SIGTERM or SIGINT"):
        super().__init__(f"stopped by {signal_name}")


def _raise(signum: int, _frame: FrameType | None) -> None:
    raise Interrupted(signal.Signals(signum).name)


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """Within the block, SIGTERM and SIGINT raise `Interrupted`; the handlers before are put back."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set handlers, and only it receives signals
        return
    previous = {signum: signal.getsignal(signum) for signum in SIGNALS}
    for signum in SIGNALS:
        signal.signal(signum, _raise)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
