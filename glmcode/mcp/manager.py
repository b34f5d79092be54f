"""The servers of one glmcode process: one event loop on a daemon thread runs every connection,
so they start in parallel while the prompt is already usable, and the agent (which is not
asynchronous) calls them through plain blocking methods."""

from __future__ import annotations

import asyncio
import tempfile
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from glmcode.config.mcp_servers import ServerSpec
from glmcode.mcp.state import CallFailed, RemoteResult, ServerState

# A connection's own watchdog ends its start; this is only for a loop that stopped answering.
_SETTLE_SLACK_S = 5.0
_CLOSE_TIMEOUT_S = 8.0


class McpManager:
    def __init__(
        self,
        specs: Sequence[ServerSpec],
        env: Mapping[str, str],
        api_key: str | None,
        workspace: Path | None = None,
        *,
        restartable: bool = False,
    ) -> None:
        """`restartable`: the frontend offers /mcp restart, so messages may point to it."""
        self._env = dict(env)
        self._api_key = api_key
        self._workspace = workspace
        self.restartable = restartable
        self.states: dict[str, ServerState] = {
            s.name: ServerState(s, restartable=restartable) for s in specs if s.enabled
        }
        self.disabled: tuple[ServerSpec, ...] = tuple(s for s in specs if not s.enabled)
        self._loop = asyncio.new_event_loop()
        self._conns: dict[str, Any] = {}
        self._stops: dict[str, Any] = {}
        self._runs: dict[str, Future[None]] = {}
        self._closed = False
        self._thread = threading.Thread(target=self._main, name="glmcode-mcp", daemon=True)

    def start(self) -> None:
        self._thread.start()
        for name in self.states:
            self._begin(name)

    def _main(self) -> None:
        asyncio.set_event_loop(self._loop)
        # The SDK takes a second or more to import; here it does not hold up the prompt.
        try:
            import glmcode.mcp.connection  # noqa: F401
        except Exception as exc:  # an SDK that cannot load fails every server, not glmcode
            for state in self.states.values():
                state.status, state.error = "failed", f"the mcp package cannot be loaded: {exc}"
                state.settled.set()
        self._loop.run_forever()

    def _begin(self, name: str) -> None:
        state = self.states[name]
        future: Future[None] = asyncio.run_coroutine_threadsafe(self._run(state), self._loop)
        self._runs[name] = future

    async def _run(self, state: ServerState) -> None:
        if state.settled.is_set():  # the SDK did not load
            return
        import anyio

        from glmcode.mcp.connection import Connection
        from glmcode.mcp.launch import LaunchError, launch_for

        try:
            launch = launch_for(state.spec, self._env, self._api_key, self._workspace)
        except LaunchError as exc:
            state.status, state.error = "failed", str(exc)
            state.settled.set()
            return
        stderr = tempfile.TemporaryFile() if state.spec.transport == "stdio" else None
        conn = Connection(state, launch, stderr)
        stop = anyio.Event()
        self._conns[state.name], self._stops[state.name] = conn, stop
        try:
            await conn.run(stop)
        finally:
            if stderr is not None:
                stderr.close()

    # -- what the agent and the frontends call -------------------------------------------------

    def wait_settled(self, names: Sequence[str] | None = None) -> list[ServerState]:
        """Waits for servers still starting, each up to its own startup_timeout_s; returns
        those that were waited for."""
        waited = []
        for state in self.states.values():
            if names is not None and state.name not in names:
                continue
            if not state.settled.is_set():
                waited.append(state)
                state.settled.wait(state.spec.startup_timeout_s + _SETTLE_SLACK_S)
        return waited

    def _submit(self, name: str, make: Any, timeout: float | None = None) -> Any:
        if self._closed:
            raise CallFailed("glmcode is shutting down")
        if name in self.states:
            self.wait_settled([name])  # a call made while the server still starts waits for it
        conn = self._conns.get(name)
        state = self.states.get(name)
        if conn is None or state is None or state.status != "ready":
            if state is None:
                raise CallFailed(f"there is no MCP server {name}")
            raise CallFailed(f"the MCP server {name} is not running" + (f": {state.failure()}" if state.error else ""))
        future = asyncio.run_coroutine_threadsafe(make(conn), self._loop)
        try:
            return future.result(timeout)
        except KeyboardInterrupt:
            future.cancel()  # the SDK tells the server the request is cancelled
            raise

    def call_tool(self, server: str, tool: str, args: dict[str, Any]) -> RemoteResult:
        state = self.states[server]
        timeout = state.spec.tool_timeout_s
        return self._submit(server, lambda c: c.call_tool(tool, args, timeout))  # type: ignore[no-any-return]

    def get_prompt(self, server: str, prompt: str, args: dict[str, str]) -> str:
        return str(self._submit(server, lambda c: c.get_prompt(prompt, args)))

    def read_resource(self, server: str, uri: str) -> str:
        return str(self._submit(server, lambda c: c.read_resource(uri)))

    def restart(self, name: str) -> ServerState:
        """Stops the server if it runs, starts it again and waits for it to settle."""
        self._stop(name)
        old = self.states[name]
        self.states[name] = ServerState(old.spec, version=old.version + 1, restartable=self.restartable)
        self._begin(name)
        self.wait_settled([name])
        return self.states[name]

    def _stop(self, name: str) -> None:
        stop = self._stops.pop(name, None)
        self._conns.pop(name, None)
        run = self._runs.pop(name, None)
        if stop is not None:
            self._loop.call_soon_threadsafe(stop.set)
        if run is not None:
            try:
                run.result(_CLOSE_TIMEOUT_S)
            except Exception:  # a server that will not stop is left to its process group's end
                run.cancel()

    def close(self) -> None:
        """Ends every server (a stdio server's stdin is closed, then its process group is
        terminated if it does not leave) and the loop."""
        if self._closed:
            return
        self._closed = True
        if not self._thread.is_alive():
            return
        for name in list(self._stops):
            stop = self._stops[name]
            self._loop.call_soon_threadsafe(stop.set)
        for name in list(self._runs):
            self._stop(name)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(_CLOSE_TIMEOUT_S)
