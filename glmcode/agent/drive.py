"""How a frontend reads a run: every event to its handler, and Ctrl-C pressed while it draws
passed back into the run, which closes the turn cleanly."""

from __future__ import annotations

from collections.abc import Callable, Generator

from glmcode.events import Event


def drive(events: Generator[Event, None, None], handle: Callable[[Event], None]) -> None:
    """Feed every event to `handle`. An interrupt raised in `handle` (the user pressed Ctrl-C
    while we were drawing) is passed into the agent, which closes the turn cleanly."""
    pending: Event | None = None
    while True:
        try:
            if pending is not None:
                event, pending = pending, None
                handle(event)
            for event in events:
                handle(event)
            return
        except KeyboardInterrupt:
            try:
                pending = events.throw(KeyboardInterrupt())
            except StopIteration:
                return
