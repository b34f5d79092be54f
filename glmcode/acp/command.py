"""`glmcode acp`: serve the Agent Client Protocol on stdin and stdout until the editor closes
stdin, then stop every run and every command it started, and exit."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Mapping
from typing import Any


def acp_command(flags: Mapping[str, Any], *, log_level: str = "warning") -> int:
    logging.basicConfig(
        stream=sys.stderr, level=getattr(logging, log_level.upper(), logging.WARNING),
        format="glmcode acp: %(levelname)s: %(message)s",
    )
    from glmcode.acp.transport import claim_stdout

    out = claim_stdout()
    try:
        asyncio.run(serve(flags, sys.stdin.buffer, out))
    except KeyboardInterrupt:
        return 130
    return 0


async def serve(flags: Mapping[str, Any], stdin: Any, stdout: Any) -> None:
    from acp.core import AgentSideConnection

    from glmcode.acp.server import GlmcodeAgent
    from glmcode.acp.transport import StdioTransport

    agent = GlmcodeAgent(flags)
    transport = await StdioTransport.open(stdin, stdout)
    conn = AgentSideConnection(agent, transport, listening=False)
    try:
        await conn.listen()
    finally:
        await agent.close()
        await conn.close()
