"""`/hooks`: the hooks in force, in the order they run, with the file and line each comes from,
and the project's hooks that wait for the user's trust."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from glmcode.ui.tui.host import SessionHost


def show_hooks(session: SessionHost) -> None:
    from rich.table import Table
    from rich.text import Text

    from glmcode.hooks.config import EVENTS

    console = session.console
    config = session.ws.hooks
    if not config.hooks:
        console.print("No hooks are in force. docs/hooks.md says how to add one.", style="dim")
    else:
        table = Table(box=None, padding=(0, 2), show_edge=False)
        for column in ("event", "tools", "command", "timeout", "from"):
            table.add_column(column)
        for event in EVENTS:
            for hook in config.for_event(event):
                tools = (hook.matcher or "every tool") if event in ("pre_tool_use", "post_tool_use") else ""
                table.add_row(event, Text(tools), Text(hook.command), f"{hook.timeout_s:g}s", Text(hook.source))
        console.print(table)
    for text in config.ignored:
        console.print(text, style="yellow", markup=False, highlight=False)
