"""Pipeline stages in background threads, so reading, checking and writing a load overlap.

The heavy work of each stage (zlib, Arrow's parser, polars, the Parquet writer) runs outside the
GIL, so on two cores the stages run side by side. Queues are short (`depth` items), so memory
holds a few batches whatever the size of the file; an exception in a stage reaches the caller.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")
_DONE = object()
_POLL_SECONDS = 0.1


class _Stage:
    def __init__(self, depth: int):
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _start(self, target: Callable[[], None]) -> None:
        self._thread = threading.Thread(target=target, daemon=True)
        self._thread.start()

    def _put(self, item: object) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def _join(self) -> None:
        self._stop.set()
        while self._thread is not None and self._thread.is_alive():
            try:
                while True:
                    self._queue.get_nowait()
            except queue.Empty:
                pass
            self._thread.join(timeout=_POLL_SECONDS)


class Prefetched(_Stage, Generic[T]):
    """The items of `source`, produced in a thread up to `depth` items ahead of the caller."""

    def __init__(self, source: Iterator[T], depth: int = 1):
        super().__init__(depth)
        self._source = source
        self._start(self._run)

    def _run(self) -> None:
        try:
            for item in self._source:
                if not self._put(item):
                    return
            self._put(_DONE)
        except BaseException as exc:  # handed to the caller's thread, which raises it
            self._put(exc)

    def __iter__(self) -> Iterator[T]:
        try:
            while (item := self._queue.get()) is not _DONE:
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            self._join()

    def close(self) -> None:
        """Stop producing and wait for the thread (also when the items were not all taken)."""
        self._join()


class Drained(_Stage, Generic[T]):
    """Calls `handle(item)` in a thread for every item `put`; `close` waits for the last."""

    def __init__(self, handle: Callable[[T], None], depth: int = 1):
        super().__init__(depth)
        self._handle = handle
        self._error: BaseException | None = None
        self._start(self._run)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                item = self._queue.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                continue
            if item is _DONE:
                return
            if self._error is None:
                try:
                    self._handle(item)
                except BaseException as exc:  # raised in the caller's thread by put or close
                    self._error = exc

    def put(self, item: T) -> None:
        self._raise()
        self._put(item)

    def close(self) -> None:
        """Wait until every item is handled; raise what a handler raised."""
        self._put(_DONE)
        if self._thread is not None:
            self._thread.join()
        self._raise()

    def abort(self) -> None:
        self._join()

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error
