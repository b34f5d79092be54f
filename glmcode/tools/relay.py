"""How a tool that runs on a worker thread reaches the thread that drives the agent: it
reports events there as they happen, and has calls made there that must not run on a worker
(asking the user, who answers one question at a time on the terminal)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from glmcode.events import Event


@dataclass
class MainThreadCall:
    """One call waiting to be made on the driving thread; the worker waits on `done`."""

    fn: Callable[..., Any]
    args: tuple[Any, ...]
    done: threading.Event = field(default_factory=threading.Event)
    value: Any = None
    error: BaseException | None = None

    def run(self) -> None:
        try:
            self.value = self.fn(*self.args)
        except BaseException as exc:  # handed back to the worker that asked
            self.error = exc
        self.done.set()

    def fail(self, error: BaseException) -> None:
        self.error = error
        self.done.set()


class Relay:
    """`post` puts an Event or a MainThreadCall on the driving thread's queue; without one
    (the tool runs on the driving thread itself) events are dropped and calls made at once."""

    def __init__(self, call_id: str, post: Callable[[Event | MainThreadCall], None] | None = None) -> None:
        self.call_id = call_id
        self.cancel = threading.Event()
        self._post = post

    def emit(self, event: Event) -> None:
        if self._post is not None:
            self._post(event)

    def ask(self, fn: Callable[..., Any], *args: Any) -> Any:
        if self._post is None:
            return fn(*args)
        call = MainThreadCall(fn, args)
        self._post(call)
        # The driving thread may have stopped reading (an interrupt): then nobody answers.
        while not call.done.wait(0.2):
            if self.cancel.is_set():
                raise KeyboardInterrupt
        if call.error is not None:
            raise call.error
        return call.value
