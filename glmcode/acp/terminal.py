"""run_shell in the editor's terminal (`glmcode acp --editor-terminal`, when the editor offers
terminals): the command runs where the user watches it live, embedded in its tool call, under
the same name, parameters and permission policy as glmcode's own run_shell, with its time limit
and a cancel killing it. The editor's environment and process handling apply, not glmcode's."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from acp import RequestError, schema

from glmcode.acp.bridge import Cancelled
from glmcode.tools import run_shell, shell_process
from glmcode.tools.base import Tool, ToolContext, ToolError, ToolResult
from glmcode.tools.truncate import head_tail

# What the editor keeps of a command's output (its start is dropped first).
OUTPUT_BYTES = 1_000_000
SHELL = ("bash", "-c")


def terminal_tool(session: Callable[[], Any]) -> Tool:
    """glmcode's run_shell, run through the editor of `session()` (the session is made after
    its tools)."""
    return replace(run_shell.TOOL, run=lambda args, ctx: run_in_terminal(args, ctx, session()))


def run_in_terminal(args: dict[str, Any], ctx: ToolContext, session: Any) -> ToolResult:
    # The editor's terminal is outside glmcode's sandbox, and the permission modes count on
    # the sandbox (auto-edit runs sandboxed commands unasked): with a sandbox in force, the
    # command runs in it, here, as it would without an editor.
    if ctx.sandbox is not None:
        return run_shell.run(args, ctx)
    command = args["command"]
    if not command.strip():
        raise ToolError("run_shell: command is empty")
    timeout = float(args["timeout"]) if args["timeout"] is not None else ctx.limits.timeout
    if timeout <= 0:
        raise ToolError("run_shell: timeout must be more than 0 seconds")
    timeout = min(timeout, ctx.limits.max_timeout)
    conn, sid, bridge = session.conn, session.id, session.bridge
    env = [schema.EnvVariable(name=k, value=v) for k, v in shell_process.PAGER_OFF.items()]
    try:
        created = bridge.call(lambda: conn.create_terminal(
            session_id=sid, command=SHELL[0], args=[SHELL[1], command], cwd=str(ctx.workspace),
            env=env, output_byte_limit=OUTPUT_BYTES,
        ))
    except Cancelled:
        raise bridge.interrupt() from None
    except RequestError as exc:
        raise ToolError(f"run_shell: the editor could not start the command: {exc}") from None
    terminal = created.terminal_id
    session.show_terminal(terminal)
    try:
        exited = _wait(session, terminal, timeout)
        output = bridge.call(lambda: conn.terminal_output(session_id=sid, terminal_id=terminal), cancellable=False)
    except Cancelled:
        raise bridge.interrupt() from None
    finally:
        with contextlib.suppress(Cancelled, RequestError):
            bridge.call(lambda: conn.release_terminal(session_id=sid, terminal_id=terminal), cancellable=False)
    return _result(output, exited, timeout, terminal)


def _wait(session: Any, terminal: str, timeout: float) -> schema.WaitForTerminalExitResponse | None:
    """The command's exit, or None when it ran out of time (and was killed). A cancel kills it
    and raises Cancelled."""
    conn, sid, bridge = session.conn, session.id, session.bridge

    async def wait() -> schema.WaitForTerminalExitResponse | None:
        try:
            return await asyncio.wait_for(conn.wait_for_terminal_exit(session_id=sid, terminal_id=terminal), timeout)
        except asyncio.TimeoutError:
            await conn.kill_terminal(session_id=sid, terminal_id=terminal)
            return None

    try:
        return bridge.call(wait)
    except Cancelled:
        with contextlib.suppress(Cancelled, RequestError):
            bridge.call(lambda: conn.kill_terminal(session_id=sid, terminal_id=terminal), cancellable=False)
        raise


def _result(
    output: schema.TerminalOutputResponse, exited: schema.WaitForTerminalExitResponse | None, timeout: float,
    terminal: str,
) -> ToolResult:
    if exited is None:
        note, exit_code = f"Command timed out after {timeout:g} s; it was killed.", None
    elif exited.exit_code is None:
        note, exit_code = f"Command ended by signal {exited.signal}.", None
    else:
        note, exit_code = f"Exit code: {exited.exit_code}", exited.exit_code
    notes = [note]
    if output.truncated:
        notes.append("The start of the output was not kept.")
    text = output.output.rstrip("\n")
    body = f"<output>\n{text}\n</output>" if text else "(no output)"
    whole = "\n".join([*notes, body])
    shown = "\n".join([*notes, f"<output>\n{head_tail(text)}\n</output>" if text else body])
    return ToolResult(
        output=whole,
        is_error=exit_code != 0,
        model_output=None if shown == whole else shown,
        data={"exit_code": exit_code, "timed_out": exited is None, "terminal_id": terminal},
    )
