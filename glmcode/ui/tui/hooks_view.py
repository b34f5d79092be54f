"""`/hooks`: the hooks in force, in the order they run, with the file and line each comes from,
and the project's hooks that wait for the user's trust."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from glmcode.ui.tui.host import SessionHost


def show_hooks(session: SessionHost) -> None:
    from rich.text import Text

    from glmcode.hooks.config import EVENTS, TOOL_EVENTS

    console = session.console
    config = session.ws.hooks
    if not config.hooks:
        console.print("No hooks are in force. docs/hooks.md says how to add one.", style="dim")
    for event in EVENTS:
        for hook in config.for_event(event):
            head = Text.assemble((event, "bold"), "  ")
            if event in TOOL_EVENTS:
                head.append(hook.matcher or "every tool")
                head.append("  ")
            head.append(f"timeout {hook.timeout_s:g}s · {hook.scope}: {hook.source}", style="dim")
            console.print(head)
            console.print(Text(f"  {hook.command}"), soft_wrap=True)
    for text in config.ignored:
        console.print(text, style="yellow", markup=False, highlight=False)
