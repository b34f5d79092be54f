"""The servers of one workspace as the agent sees them: started with the workspace, their
tools kept in the registry, and what went wrong told to the user before the next request."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from glmcode.config.mcp_servers import ServerSpec
from glmcode.events import Event, Notice
from glmcode.mcp.manager import McpManager
from glmcode.mcp.state import ServerState
from glmcode.mcp.tools import PREFIX, offer
from glmcode.tools.base import Tool
from glmcode.tools.registry import Registry


class McpHub:
    def __init__(
        self,
        specs: Sequence[ServerSpec],
        registry: Registry,
        env: Mapping[str, str],
        api_key: str | None,
        workspace: Path | None = None,
    ) -> None:
        self.manager = McpManager(specs, env, api_key, workspace)
        self.registry = registry
        self.left_out: dict[str, tuple[str, ...]] = {}
        self.withheld: dict[str, dict[str, str]] = {}  # server -> {tool: why it is not offered}
        self._seen: dict[str, tuple[str, int]] = {}  # server -> (status, version) last synced

    def start(self) -> None:
        self.manager.start()

    def withhold(self, server: str, tool: str, why: str) -> None:
        """Keeps one of a server's tools from the model, from the next sync on: glmcode serves
        what it does through a tool of its own."""
        self.withheld.setdefault(server, {})[tool] = why

    @property
    def states(self) -> list[ServerState]:
        return list(self.manager.states.values())

    def before_run(self) -> Iterator[Event]:
        """Waits for servers still starting (each up to its startup_timeout_s), says which
        failed or went away since the last run, and brings their tools into the registry."""
        starting = [s.name for s in self.states if not s.settled.is_set()]
        if starting:
            yield Notice(f"Waiting for MCP server{'s' if len(starting) > 1 else ''} {', '.join(starting)} to start…", "info")
        self.manager.wait_settled()
        for state in self.states:
            seen = self._seen.get(state.name)
            if state.status == "failed" and (seen is None or seen[0] != "failed"):
                yield Notice(
                    f"MCP server {state.name} is not available: {state.failure()}\n"
                    f"Going on without it; /mcp restart {state.name} tries again.",
                    "warning",
                )
            elif state.status == "starting":
                yield Notice(f"MCP server {state.name} is still starting; going on without it for now.", "warning")
        self.sync()

    def sync(self) -> bool:
        """The registry's MCP tools made to match the servers' current ones."""
        tools: list[Tool] = []
        for state in self.states:
            self._seen[state.name] = (state.status, state.version)
            if state.status != "ready":
                continue
            offered = offer(state, self.manager.call_tool, self.withheld.get(state.name))
            self.left_out[state.name] = offered.left_out
            tools.extend(offered.tools)
        return self.registry.set_group(PREFIX, tools)

    def restart(self, name: str) -> ServerState:
        state = self.manager.restart(name)
        self.sync()
        return state

    def close(self) -> None:
        self.manager.close()
