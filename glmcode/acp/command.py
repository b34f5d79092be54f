"""`glmcode acp`: serve the Agent Client Protocol on stdin and stdout until the editor closes
stdin, then stop every run and every command it started, and exit."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Mapping
from typing import Any


def acp_command(
    flags: Mapping[str, Any], *, log_level: str = "warning", max_turns: int | None = None, editor_terminal: bool = False
) -> int:
    logging.basicConfig(
        stream=sys.stderr, level=getattr(logging, log_level.upper(), logging.WARNING),
        format="glmcode acp: %(levelname)s: %(message)s",
    )
    from glmcode.acp.transport import claim_stdout

    out = claim_stdout()
    try:
        asyncio.run(serve(
            flags, sys.stdin.buffer, out, verbose=log_level == "info", max_turns=max_turns, editor_terminal=editor_terminal,
        ))
    except KeyboardInterrupt:
        return 130
    return 0


async def serve(
    flags: Mapping[str, Any], stdin: Any, stdout: Any, *, verbose: bool = False, max_turns: int | None = None,
    editor_terminal: bool = False,
) -> None:
    from acp.core import AgentSideConnection

    from glmcode.acp.server import GlmcodeAgent
    from glmcode.acp.transport import StdioTransport

    agent = GlmcodeAgent(flags, max_turns=max_turns, editor_terminal=editor_terminal)
    transport = await StdioTransport.open(stdin, stdout)
    # An observer is handed a copy of every message, so it is there only when it logs.
    observers = [_log_message] if verbose else []
    conn = AgentSideConnection(agent, transport, listening=False, observers=observers)
    try:
        await conn.listen()
    finally:
        await agent.close()
        await conn.close()


def _log_message(event: Any) -> None:
    """With --verbose: what the editor asks and what glmcode asks it, by method (the stream of
    session updates left out)."""
    log = logging.getLogger("glmcode.acp")
    message = event.message
    method = message.get("method")
    if method is not None and method != "session/update":
        direction = "editor ->" if event.direction.value == "incoming" else "-> editor"
        log.info("%s %s%s", direction, method, f" (id {message['id']})" if "id" in message else "")
