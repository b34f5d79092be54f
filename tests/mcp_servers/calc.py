"""A small MCP server for the tests, on the SDK's own server API: `python calc.py` serves
stdio; `python calc.py --http` (or `--sse`) serves streamable HTTP (or SSE) on 127.0.0.1 and
prints its URL."""

from __future__ import annotations

import os
import sys
import time

from mcp.server.mcpserver import Context, Image, MCPServer
from mcp_types import ToolAnnotations
from mcp.server.mcpserver.exceptions import ToolError

app = MCPServer("calc")
# A red picture of 4x3 pixels.
TINY_PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x04\x00\x00\x00\x03\x08\x02\x00\x00\x00;\x969\x91"
    b"\x00\x00\x00\x10IDATx\xdac\xfc\xcf\x80\x00L\x0c\xb88\x00&v\x01\x05\x0c\xf2\x17Z\x00\x00\x00\x00IEND\xaeB`\x82"
)
if os.environ.get("CALC_MARK"):  # tells a test the server was started
    with open(os.environ["CALC_MARK"], "a") as mark:
        mark.write(f"started {os.getpid()}\n")
if os.environ.get("CALC_CHILD"):  # a process of its own, as `npx` starts node: the test watches both
    import subprocess

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], stdin=subprocess.DEVNULL)
    ready = os.environ["CALC_CHILD"] + ".part"
    with open(ready, "w") as pids:
        pids.write(f"{os.getpid()} {child.pid}\n")
    os.replace(ready, os.environ["CALC_CHILD"])  # whole, or not there yet


@app.tool()
def add(a: int, b: int) -> int:
    """Add two whole numbers."""
    return a + b


@app.tool()
def fail(reason: str) -> str:
    """Always fails, with the reason given."""
    raise ToolError(f"cannot do that: {reason}")


@app.tool()
def sleep(seconds: float) -> str:
    """Sleeps, then says so."""
    time.sleep(seconds)
    return "slept"


@app.tool()
def crash() -> str:
    """Ends the server's process at once."""
    sys.stderr.write("calc: crashing on purpose\n")
    sys.stderr.flush()
    os._exit(3)


@app.tool()
def pid() -> int:
    """The server's process id."""
    return os.getpid()


@app.tool(annotations=ToolAnnotations(read_only_hint=True, destructive_hint=False))
def peek() -> str:
    """Says the server thinks it only reads."""
    return "peeked"


@app.tool()
def picture() -> Image:
    """Returns a small PNG."""
    return Image(data=TINY_PNG, format="png")


@app.tool()
async def grow(ctx: Context) -> str:
    """Adds the tool `extra` and tells the client its tools changed."""

    def extra() -> str:
        """A tool that came later."""
        return "extra!"

    app.add_tool(extra)
    await ctx.session.send_tool_list_changed()
    return "grown"


@app.prompt()
def review(path: str) -> str:
    """Ask for a review of a file."""
    return f"Please review {path} carefully."


@app.resource("notes://today", name="today", description="Today's notes")
def today() -> str:
    return "buy milk"


def _serve_http(sse: bool) -> None:
    import socket

    import anyio
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    # Listening already: a client that connects now waits in the backlog until uvicorn runs.
    print(f"http://127.0.0.1:{sock.getsockname()[1]}/{'sse' if sse else 'mcp'}", flush=True)
    config = uvicorn.Config(app.sse_app() if sse else app.streamable_http_app(), log_level="warning")
    anyio.run(uvicorn.Server(config).serve, [sock])


if __name__ == "__main__":
    if "--http" in sys.argv or "--sse" in sys.argv:
        _serve_http(sse="--sse" in sys.argv)
    else:
        app.run()
