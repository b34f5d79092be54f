"""`/agents`: the agents the `task` tool can start, where each comes from, and the agent files
that are not used and why."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from glmcode.ui.tui.host import SessionHost


def show_agents(session: SessionHost) -> None:
    from rich.table import Table
    from rich.text import Text

    console = session.console
    catalog = session.ws.subagents
    if catalog is None:
        console.print("Sub-agents are not available in this session.", style="dim")
        return
    table = Table.grid(padding=(0, 2))
    for _ in range(3):
        table.add_column()
    for agent in catalog.agents.values():
        tools = ", ".join(catalog.tools_for(agent)) or "no tools"
        model = agent.model or f"{session.settings.model} (the session's)"
        where = agent.scope if agent.scope == "built-in" else f"{agent.scope}: {agent.source}"
        table.add_row(Text(agent.name, style="bold"), Text(agent.description),
                      Text(f"{where}\nmodel {model}; tools: {tools}", style="dim"))
    console.print(table)
    for warning in catalog.warnings:
        console.print(f"! {warning}", style="yellow", markup=False, highlight=False)
    console.print(
        "Add your own as .glmcode/agents/NAME.md in the project or ~/.config/glmcode/agents/NAME.md "
        "(see docs/agents.md).",
        style="dim", markup=False, highlight=False,
    )
