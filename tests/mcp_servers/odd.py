"""An MCP server written by hand on stdio (JSON-RPC, one message a line), for what the SDK's own
server API will not send: a tool list in which one tool's arguments are not an object."""

from __future__ import annotations

import json
import sys

TOOLS = [
    {"name": "echo", "description": "Says the text back.",
     "inputSchema": {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}},
    {"name": "pairs", "description": "Takes a list.", "inputSchema": {"type": "array", "items": {"type": "string"}}},
    {"name": "loose", "description": "Its schema forgets the type.", "inputSchema": {"properties": {"n": {"type": "integer"}}},
     "outputSchema": {"type": "array"}},
]


def answer(request: dict) -> dict | None:
    method = request.get("method")
    if "id" not in request:
        return None  # a notification
    if method == "initialize":
        result = {"protocolVersion": "2025-06-18", "capabilities": {"tools": {}}, "serverInfo": {"name": "odd", "version": "1"}}
    elif method == "tools/list":
        result = {"tools": TOOLS}
    elif method == "tools/call":
        args = request["params"].get("arguments") or {}
        result = {"content": [{"type": "text", "text": json.dumps(args, sort_keys=True)}]}
    else:
        return {"jsonrpc": "2.0", "id": request["id"], "error": {"code": -32601, "message": f"no {method}"}}
    return {"jsonrpc": "2.0", "id": request["id"], "result": result}


for line in sys.stdin:
    reply = answer(json.loads(line))
    if reply is not None:
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()
