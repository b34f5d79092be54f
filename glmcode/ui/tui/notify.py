"""Telling a user who looked away that glmcode waits for them: the terminal's bell, or an
OSC 9 desktop notification (iTerm2, WezTerm, Windows Terminal, kitty...), when an approval
waits or a run that took a while has ended. The `notify` setting chooses; "off" is silent."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import IO

from glmcode.events import ApprovalNeeded, Event

# A run shorter than this ended while the user was most likely still watching.
NOTIFY_AFTER_S = 5.0
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class Notifier:
    def __init__(self, mode: str, out: IO[str], clock: Callable[[], float] = time.monotonic) -> None:
        self.mode = mode
        self.out = out
        self.clock = clock
        self._since = clock()  # the user's last answer: the prompt, or an approval
        self._waiting = False

    def ring(self, message: str) -> None:
        if self.mode == "bell":
            self.out.write("\a")
        elif self.mode == "osc9":
            self.out.write(f"\x1b]9;{_CONTROL.sub(' ', message)}\x07")
        else:
            return
        self.out.flush()

    def watching(self, handle: Callable[[Event], None]) -> Callable[[Event], None]:
        """`handle`, ringing before an approval question is shown."""

        def watch(event: Event) -> None:
            if self._waiting:  # the question was answered: the user is back
                self._waiting = False
                self._since = self.clock()
            if isinstance(event, ApprovalNeeded):
                self._waiting = True
                self.ring(f"glmcode needs your approval for {event.name}")
            handle(event)

        return watch

    def run_ended(self) -> None:
        if self.clock() - self._since >= NOTIFY_AFTER_S:
            self.ring("glmcode has finished and waits for you")
