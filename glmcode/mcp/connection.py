"""One server's connection, on the `mcp` SDK: start or reach it, read its tools, prompts and
resources, answer calls, notice when it goes away. Runs on the manager's event loop; what it
learns goes into the server's `ServerState` as plain data.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import IO, Any

import anyio
import mcp_types as types
from mcp.client.session import ClientSession
from mcp.shared.exceptions import MCPError
from pydantic import ValidationError

from glmcode.mcp.content import as_result, content_text, unusable_answer
from glmcode.mcp.guarded import stdio_command
from glmcode.mcp.launch import Launch
from glmcode.mcp.listing import SetAside
from glmcode.mcp.state import (
    STDERR_TAIL_CHARS,
    CallFailed,
    RemotePrompt,
    RemoteResource,
    RemoteResult,
    RemoteTool,
    ServerState,
)

# The SDK logs a server's stray stdout lines with a traceback each; with no handler of its own,
# Python would print them over the terminal's screen. What matters reaches the server's state.
logging.getLogger("mcp").addHandler(logging.NullHandler())

CLIENT_INFO = types.Implementation(name="glmcode", version="0")
_PAGES = 50  # a server that paginates forever must not hang the start


class Connection:
    def __init__(self, state: ServerState, launch: Launch, stderr: IO[bytes] | None) -> None:
        self.state = state
        self.launch = launch
        self.stderr = stderr
        self.session: ClientSession | None = None
        self._tasks: Any = None
        self._relisting: anyio.Event | None = None  # set once a tools/list_changed is read
        self._finished = anyio.Event()  # the connection is over and the state says why
        self._set_aside = SetAside()
        self.http_refusal = 0  # the last HTTP error status the server answered, for the message

    async def run(self, stop: anyio.Event) -> None:
        """Connects, serves until `stop` is set or the server goes away, then disconnects.
        Never raises: every failure ends up in the state."""
        state = self.state
        ready = anyio.Event()
        timed_out = False
        try:
            async with anyio.create_task_group() as outer:

                async def watchdog() -> None:
                    nonlocal timed_out
                    with anyio.move_on_after(state.spec.startup_timeout_s):
                        await ready.wait()
                        return
                    timed_out = True
                    outer.cancel_scope.cancel()

                async def stopper() -> None:
                    # Leaving while a server still starts ends its start too (and so its
                    # process), rather than waiting for an answer it may never give.
                    await stop.wait()
                    outer.cancel_scope.cancel()

                outer.start_soon(watchdog)
                outer.start_soon(stopper)
                await self._serve(stop, ready)
                outer.cancel_scope.cancel()
        except Exception as exc:
            state.error = describe_error(exc, state.spec.target, self.http_refusal)
            state.status = "failed"
        finally:
            self.session = None
            state.stderr_tail = self.stderr_tail()
            if timed_out:
                state.status = "failed"
                state.error = f"it did not start within {state.spec.startup_timeout_s:g}s (startup_timeout_s)"
            elif state.status in ("starting", "ready"):
                stopped = stop.is_set()
                state.status = "stopped" if stopped else "failed"
                if not stopped:
                    state.error = "the server went away" + (" (its process exited)" if self.stderr else "")
            state.settled.set()
            self._finished.set()

    async def _serve(self, stop: anyio.Event, ready: anyio.Event) -> None:
        state = self.state
        async with AsyncExitStack() as stack:
            read, write = await stack.enter_async_context(self._transport())
            tasks = await stack.enter_async_context(anyio.create_task_group())
            stack.callback(tasks.cancel_scope.cancel)
            self._tasks = tasks
            gone = anyio.Event()
            inbox_in, inbox = anyio.create_memory_object_stream[Any](0)
            tasks.start_soon(_pump, read, inbox_in, gone, self._set_aside)
            session = await stack.enter_async_context(
                ClientSession(inbox, write, message_handler=self._on_message, client_info=CLIENT_INFO)
            )
            init = await session.initialize()
            info = init.server_info
            state.server_info = f"{info.name} {info.version}".strip() if info else ""
            caps = init.capabilities
            if caps.tools is not None:
                state.tools = await _all_tools(session, self._set_aside)
            if caps.prompts is not None:
                state.prompts = await _all_prompts(session)
            if caps.resources is not None:
                state.resources = await _all_resources(session)
            self.session = session
            state.status = "ready"
            state.error = ""
            state.version += 1
            ready.set()
            state.settled.set()
            async with anyio.create_task_group() as waiting:

                async def until(event: anyio.Event) -> None:
                    await event.wait()
                    waiting.cancel_scope.cancel()

                waiting.start_soon(until, stop)
                waiting.start_soon(until, gone)

    @asynccontextmanager
    async def _transport(self) -> AsyncIterator[Any]:
        spec, launch = self.state.spec, self.launch
        if spec.transport == "stdio":
            from mcp.client.stdio import StdioServerParameters, stdio_client

            command, args = stdio_command(launch)
            params = StdioServerParameters(command=command, args=args, env=dict(launch.env or {}), cwd=launch.cwd)
            async with stdio_client(params, errlog=self.stderr) as streams:  # type: ignore[arg-type]
                yield streams
        elif spec.transport == "sse":
            from mcp.client.sse import sse_client

            async with sse_client(launch.url, headers=dict(launch.headers or {})) as streams:
                yield streams
        else:
            from mcp.client.streamable_http import streamable_http_client
            from mcp.shared._httpx_utils import create_mcp_http_client

            async with create_mcp_http_client(headers=dict(launch.headers or {})) as http:
                # The SDK turns a refusal into a bare "error response"; its status says what to fix.
                http.event_hooks = {"response": [self._note_status]}
                async with streamable_http_client(launch.url, http_client=http) as streams:
                    yield streams[0], streams[1]

    async def _note_status(self, response: Any) -> None:
        if response.status_code >= 400:
            self.http_refusal = response.status_code

    async def _on_message(self, message: Any) -> None:
        method = getattr(message, "method", "")
        if method == "notifications/tools/list_changed" and self._tasks is not None:
            done = self._relisting = anyio.Event()
            self._tasks.start_soon(self._refresh, "tools", done)
        elif method == "notifications/prompts/list_changed" and self._tasks is not None:
            self._tasks.start_soon(self._refresh, "prompts")
        elif method == "notifications/resources/list_changed" and self._tasks is not None:
            self._tasks.start_soon(self._refresh, "resources")

    async def _refresh(self, what: str, done: anyio.Event | None = None) -> None:
        try:
            await self._relist(what)
        finally:
            if done is not None:
                done.set()

    async def _relist(self, what: str) -> None:
        session = self.session
        if session is None:
            return
        try:
            if what == "tools":
                self.state.tools = await _all_tools(session, self._set_aside)
            elif what == "prompts":
                self.state.prompts = await _all_prompts(session)
            else:
                self.state.resources = await _all_resources(session)
        except (MCPError, anyio.ClosedResourceError, anyio.BrokenResourceError):
            return
        self.state.version += 1

    def stderr_tail(self) -> str:
        if self.stderr is None:
            return ""
        try:
            fd = self.stderr.fileno()
            size = os.fstat(fd).st_size
            start = max(0, size - STDERR_TAIL_CHARS)
            # pread leaves the offset the server writes at alone.
            return os.pread(fd, size - start, start).decode("utf-8", "replace")
        except (OSError, ValueError):
            return ""

    def _live(self) -> ClientSession:
        if self.session is None:
            raise CallFailed(f"the MCP server {self.state.name} is not running: {self.state.failure()}")
        return self.session

    async def call_tool(self, name: str, args: dict[str, Any], timeout: float) -> RemoteResult:
        session = self._live()
        try:
            with anyio.fail_after(timeout):
                result = await session.call_tool(name, args)
        except TimeoutError:
            raise CallFailed(
                f"the MCP server {self.state.name} did not answer within {timeout:g}s "
                "(tool_timeout_s); the call was cancelled"
            ) from None
        except MCPError as exc:
            if self.session is None or exc.message == "Connection closed":
                raise CallFailed(await self._gone_message()) from None
            if exc.code == types.CONNECTION_CLOSED:
                # Over HTTP a server that dies mid-call ends only that call's stream; the
                # connection is found gone by the next request.
                name = self.state.name
                raise CallFailed(
                    f"the MCP server {name} stopped answering during the call ({exc.message}); it "
                    f"may have gone away.\n{self.state.how_back()}"
                ) from None
            raise CallFailed(f"{self.state.name} refused the call: {exc.message}") from None
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            raise CallFailed(await self._gone_message()) from None
        except (ValidationError, RuntimeError) as exc:
            raise CallFailed(unusable_answer(self.state.name, exc)) from None
        if not isinstance(result, types.CallToolResult):
            raise CallFailed(f"{self.state.name} answered with something other than a tool result")
        relisting = self._relisting
        if relisting is not None:
            # The call changed the server's tools (it said so before answering): the new list
            # is read before the result goes back, so the next request already offers it.
            with anyio.move_on_after(timeout):
                await relisting.wait()
        return as_result(result)

    async def _gone_message(self) -> str:
        # The connection winds down at once; once it has, the state says what happened.
        with anyio.move_on_after(5):
            await self._finished.wait()
        return (
            f"the MCP server {self.state.name} went away during the call: {self.state.failure()}\n"
            f"{self.state.how_back()}"
        )

    async def get_prompt(self, name: str, args: dict[str, str]) -> str:
        session = self._live()
        try:
            result = await session.get_prompt(name, args)
        except MCPError as exc:
            raise CallFailed(f"{self.state.name} refused the prompt: {exc.message}") from None
        if not isinstance(result, types.GetPromptResult):
            raise CallFailed(f"{self.state.name} answered with something other than a prompt")
        parts = []
        for message in result.messages:
            text = content_text(message.content)
            parts.append(text if message.role == "user" else f"({message.role}) {text}")
        return "\n\n".join(parts)

    async def read_resource(self, uri: str) -> str:
        session = self._live()
        try:
            result = await session.read_resource(uri)
        except MCPError as exc:
            raise CallFailed(f"{self.state.name} could not read {uri}: {exc.message}") from None
        parts = []
        for item in getattr(result, "contents", ()):
            text = getattr(item, "text", None)
            parts.append(text if isinstance(text, str) else f"[binary content of {item.uri} ({item.mime_type}) left out]")
        return "\n".join(parts)


async def _pump(read: Any, inbox: Any, gone: anyio.Event, set_aside: SetAside) -> None:
    """Forwards the transport's messages to the session (tool listings mended first) and notes
    when the stream ends, which is how a server that exits or drops the connection is noticed."""
    try:
        async with inbox:
            async for item in read:
                set_aside.repair(getattr(item, "message", None))
                await inbox.send(item)
    except (anyio.ClosedResourceError, anyio.BrokenResourceError, anyio.EndOfStream):
        pass
    finally:
        gone.set()


async def _pages(fetch: Any, field: str) -> list[Any]:
    items: list[Any] = []
    cursor = None
    for _ in range(_PAGES):
        params = types.PaginatedRequestParams(cursor=cursor) if cursor else None
        page = await fetch(params=params)
        items.extend(getattr(page, field))
        cursor = page.next_cursor
        if not cursor:
            break
    return items


async def _all_tools(session: ClientSession, set_aside: SetAside) -> tuple[RemoteTool, ...]:
    out = []
    for tool in await _pages(session.list_tools, "tools"):
        hints = tool.annotations.model_dump(by_alias=True, exclude_none=True) if tool.annotations else {}
        schema = set_aside.schema_of(tool.name, dict(tool.input_schema or {}))
        out.append(RemoteTool(tool.name, tool.description or "", schema, hints))
    return tuple(out)


async def _all_prompts(session: ClientSession) -> tuple[RemotePrompt, ...]:
    return tuple(
        RemotePrompt(p.name, p.description or "", tuple((a.name, bool(a.required)) for a in p.arguments or ()))
        for p in await _pages(session.list_prompts, "prompts")
    )


async def _all_resources(session: ClientSession) -> tuple[RemoteResource, ...]:
    return tuple(
        RemoteResource(str(r.uri), r.name, r.description or "", r.mime_type or "")
        for r in await _pages(session.list_resources, "resources")
    )


def describe_error(exc: BaseException, target: str, http_status: int = 0) -> str:
    """A failure to connect, said so the user knows what to fix; `http_status`: the error
    status an HTTP server answered on the way, if any."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    if http_status and isinstance(exc, MCPError) and exc.message != "Connection closed":
        return _refused(target, http_status)
    if isinstance(exc, FileNotFoundError):
        return f"the command was not found ({exc.filename or target}); check `command` and PATH"
    if isinstance(exc, PermissionError):
        return f"the command cannot be run: permission denied ({exc.filename or target})"
    if isinstance(exc, MCPError):
        if exc.message == "Connection closed":
            return "the server closed the connection during start-up"
        return f"the server refused to start: {exc.message}"
    name = type(exc).__name__
    if name == "HTTPStatusError":
        response = getattr(exc, "response", None)
        return _refused(target, getattr(response, "status_code", 0))
    if name in ("ConnectError", "ConnectTimeout", "ReadTimeout", "RemoteProtocolError"):
        return f"cannot reach {target}: {exc or name}"
    if isinstance(exc, OSError):
        return f"cannot start it: {exc.strerror or exc}"
    return f"{name}: {exc}"


def _refused(target: str, status: int) -> str:
    if status in (401, 403):
        hint = " (check the token or headers)"
    elif status in (404, 405):
        hint = ' (is the URL right? an SSE server needs transport = "sse")'
    else:
        hint = ""
    return f"{target} answered HTTP {status or '?'}{hint}"
