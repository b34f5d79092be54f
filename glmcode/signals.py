"""SIGTERM read as Ctrl-C, so a run that is killed (a cancelled CI job) still ends what it
started: MCP servers, a check's processes, a worktree."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator


@contextlib.contextmanager
def sigterm_as_interrupt(active: bool = True, *, exit_code: int | None = None) -> Iterator[None]:
    """Inside, SIGTERM raises KeyboardInterrupt in the main thread (SystemExit with `exit_code`,
    when given, for a session whose prompt takes Ctrl-C as "not this line"): the run closes as
    an interrupted one and every `finally` runs, where the default would end the process on the spot."""
    if not active or threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        if exit_code is not None:
            raise SystemExit(exit_code)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
