"""The session's sandbox, decided when a command first needs it.

Deciding runs bubblewrap once to see that it works here, which costs a process and its
imports. A headless turn that runs no command never pays for it; the interactive session
begins it on a thread at the start, since its status line shows the sandbox.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from glmcode.sandbox.choose import Choice


class DeferredSandbox:
    """`choice()` decides once, with `decide`, and gives every caller the same answer;
    `begin()` starts deciding on a thread so that a later `choice()` waits less."""

    def __init__(self, decide: Callable[[], Choice]) -> None:
        self._decide = decide
        self._lock = threading.Lock()
        self._choice: Choice | None = None
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._notice_taken = False

    def begin(self) -> None:
        with self._lock:
            if self._thread is None and self._choice is None:
                self._thread = threading.Thread(target=self._settle, daemon=True)
                self._thread.start()

    def choice(self) -> Choice:
        thread = self._thread
        if thread is not None:
            thread.join()
        else:
            self._settle()
        if self._error is not None:
            raise self._error
        assert self._choice is not None
        return self._choice

    def take_notice(self) -> str | None:
        """What the user should be told of the sandbox (that there is none, and why), to
        the first caller only: it is said once a session."""
        notice = self.choice().notice
        with self._lock:
            if self._notice_taken:
                return None
            self._notice_taken = True
        return notice

    def _settle(self) -> None:
        with self._lock:
            if self._choice is not None or self._error is not None:
                return
            try:
                self._choice = self._decide()
            except BaseException as exc:  # handed to every caller of choice()
                self._error = exc
