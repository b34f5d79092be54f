"""What the slash commands may use of the interactive session, and the order of its modes.

The commands are handed a session and the session builds the commands, so the commands know it
only through this protocol: imports run from the session to the commands, never back.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from rich.console import Console

    from glmcode.agent.setup import Workspace
    from glmcode.ui.tui.recent import Recent
    from glmcode.ui.tui.status import SessionStatus

# The order Shift-Tab steps through the permission modes, and /mode lists them.
MODE_CYCLE = ("ask", "auto-edit", "full-auto", "read-only")


def next_mode(current: str) -> str:
    """The mode Shift-Tab moves to from `current`; an unlisted mode goes back to the first."""
    if current not in MODE_CYCLE:
        return MODE_CYCLE[0]
    return MODE_CYCLE[(MODE_CYCLE.index(current) + 1) % len(MODE_CYCLE)]


class SessionHost(Protocol):
    ws: Workspace
    console: Console
    terminal: bool
    status: SessionStatus
    recent: Recent
    done: bool

    @property
    def agent(self) -> Any: ...

    @property
    def settings(self) -> Any: ...

    @property
    def cwd(self) -> Path: ...

    @property
    def mode(self) -> str: ...

    def set_mode(self, mode: str) -> None: ...

    def set_model(self, name: str) -> None: ...

    def clear(self) -> None: ...

    def send(self, text: str) -> None: ...
