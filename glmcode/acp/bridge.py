"""The agent runs on a thread of its own, as in the terminal; the connection to the editor
lives on the asyncio loop. A Bridge lets the agent's thread send to the editor and wait for
its answers, and lets a cancel end that wait at once."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


class Cancelled(Exception):
    """The turn was cancelled (or the editor went away) while the agent waited on the editor."""


class Bridge:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.cancelled = threading.Event()
        self.interrupted = False  # a KeyboardInterrupt went into the run already
        self._lock = threading.Lock()
        self._waiting: set[concurrent.futures.Future[object]] = set()
        self._wakers: list[Callable[[], None]] = []

    def call(self, make: Callable[[], Awaitable[T]], *, cancellable: bool = True) -> T:
        """Runs `make()` on the loop and waits for its result; Cancelled when the connection is
        gone and, for a `cancellable` wait (a question to the editor, not a notification),
        once `cancel` is called, before or during the wait."""
        if cancellable and self.cancelled.is_set():
            raise Cancelled()

        async def run() -> T:
            return await make()

        try:
            future = asyncio.run_coroutine_threadsafe(run(), self.loop)
        except RuntimeError:  # the loop is closed: the editor is gone
            raise Cancelled() from None
        if cancellable:
            with self._lock:
                self._waiting.add(future)  # type: ignore[arg-type]
            if self.cancelled.is_set():
                future.cancel()
        try:
            return future.result()
        except (concurrent.futures.CancelledError, ConnectionError):
            raise Cancelled() from None
        finally:
            with self._lock:
                self._waiting.discard(future)  # type: ignore[arg-type]

    def cancel(self) -> None:
        """Ends every wait in progress and refuses new ones until `reset`."""
        self.cancelled.set()
        with self._lock:
            waiting = list(self._waiting)
            wakers = list(self._wakers)
        for future in waiting:
            future.cancel()
        for wake in wakers:
            wake()

    def on_cancel(self, wake: Callable[[], None]) -> Callable[[], None]:
        """Calls `wake` when the run is cancelled (at once if it is already); returns what
        takes it off again."""
        with self._lock:
            self._wakers.append(wake)
        if self.cancelled.is_set():
            wake()

        def remove() -> None:
            with self._lock:
                if wake in self._wakers:
                    self._wakers.remove(wake)

        return remove

    def interrupt(self) -> KeyboardInterrupt:
        """The interrupt that ends the run, as Ctrl-C in the terminal; one per run."""
        self.interrupted = True
        return KeyboardInterrupt()

    def reset(self) -> None:
        self.cancelled.clear()
        self.interrupted = False
