"""The `task` tool the parent model sees: its parameters, and a description naming each
agent it can start with that agent's own description."""

from __future__ import annotations

from typing import Any

from glmcode.subagents.spawn import DEFAULT_AGENT, Spawner
from glmcode.tools.base import Param, Tool, ToolContext, ToolResult, description_beside
from glmcode.tools.relay import Relay


def task_tool(spawner: Spawner) -> Tool:
    agents = spawner.catalog.agents
    listing = "\n".join(f"- {a.name}: {a.description}" for a in agents.values())
    description = f"{description_beside(__file__, 'task')}\n\nThe agents (`agent`, {DEFAULT_AGENT} when left out):\n{listing}"

    def run(args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        return spawner.run(args, ctx, Relay("task"))

    return Tool(
        "task",
        description,
        (
            Param("description", "string", "What the sub-agent does, in three to six words; the user sees it."),
            Param("prompt", "string", "The complete brief for the sub-agent: goal, context, what to report."),
            Param("agent", "string", "Which agent to start.", required=False, enum=tuple(agents)),
        ),
        "meta",
        run,
        relayed=spawner.run,
    )
