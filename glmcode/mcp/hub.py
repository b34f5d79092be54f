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
        *,
        restartable: bool = False,
    ) -> None:
        self.manager = McpManager(specs, env, api_key, workspace, restartable=restartable)
        self.registry = registry
        self.left_out: dict[str, tuple[tuple[str, str], ...]] = {}  # server -> (tool, why)
        self.withheld: dict[str, dict[str, str]] = {}  # server -> {tool: why it is not offered}
        self._seen: dict[str, tuple[str, int]] = {}  # server -> (status, version) last synced
        self._offered: dict[str, tuple[Tool, ...]] = {}  # server -> its tools in the registry
        self._told_gone: set[tuple[str, int]] = set()  # (server, version) said to have gone away in a run

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
            told = (state.name, state.version) in self._told_gone
            if state.status == "failed" and (seen is None or seen[0] != "failed") and not told:
                again = f"; /mcp restart {state.name} tries again" if state.restartable else ""
                yield Notice(f"MCP server {state.name} is not available: {state.failure()}\nGoing on without it{again}.", "warning")
            elif state.status == "starting":
                yield Notice(f"MCP server {state.name} is still starting; going on without it for now.", "warning")
        self.sync()

    def between_turns(self) -> Iterator[Event]:
        """Within a run: the tools of a server that announced a new list are in the registry
        before the next request. A server that went away keeps its tools until the next run,
        so that a call to one says why it failed rather than that there is no such tool."""
        for state in self.states:
            key = (state.name, state.version)
            if state.status == "failed" and self._seen.get(state.name, ("",))[0] == "ready" and key not in self._told_gone:
                self._told_gone.add(key)
                yield Notice(f"MCP server {state.name} went away: {state.failure()}\nIts tools answer with an error for now.", "warning")
        changed = [
            s.name for s in self.states
            if s.status == "ready" and self._seen.get(s.name, ("", -1))[1] != s.version
        ]
        if changed and self.sync(keep_gone=True):
            yield Notice(f"The tools of MCP server {', '.join(changed)} changed; the next request offers the new list.", "info")

    def sync(self, *, keep_gone: bool = False) -> bool:
        """The registry's MCP tools made to match the servers' current ones; with `keep_gone`,
        a server that is not ready keeps the tools it had."""
        tools: list[Tool] = []
        for state in self.states:
            if state.status == "ready":
                offered = offer(state, self.manager.call_tool, self.withheld.get(state.name))
                self.left_out[state.name] = offered.left_out
                self._offered[state.name] = offered.tools
            elif keep_gone:
                tools.extend(self._offered.get(state.name, ()))
                continue  # not marked seen: the next run's start still tells what became of it
            else:
                self._offered.pop(state.name, None)
            self._seen[state.name] = (state.status, state.version)
            tools.extend(self._offered.get(state.name, ()))
        return self.registry.set_group(PREFIX, tools)

    def restart(self, name: str) -> ServerState:
        state = self.manager.restart(name)
        self.sync()
        return state

    def close(self) -> None:
        self.manager.close()
