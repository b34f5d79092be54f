"""An MCP server written by hand on stdio (JSON-RPC, one message a line), for what the SDK's own
server API will not send: a tool list in which one tool's arguments are not an object, a result
that is no tool result, and structured content that breaks the tool's own output schema."""

from __future__ import annotations

import json
import sys

TOOLS = [
    {"name": "echo", "description": "Says the text back.",
     "inputSchema": {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}},
    {"name": "pairs", "description": "Takes a list.", "inputSchema": {"type": "array", "items": {"type": "string"}}},
    {"name": "loose", "description": "Its schema forgets the type.", "inputSchema": {"properties": {"n": {"type": "integer"}}},
     "outputSchema": {"type": "array"}},
    {"name": "garbled", "description": "Answers with content blocks of no known type.", "inputSchema": {"type": "object"}},
    {"name": "unkept", "description": "Promises a count it does not give.", "inputSchema": {"type": "object"},
     "outputSchema": {"type": "object", "properties": {"count": {"type": "integer"}}, "required": ["count"]}},
]
ANSWERS = {
    "garbled": {"content": [{"words": "no type here"}]},
    "unkept": {"content": [{"type": "text", "text": "{}"}], "structuredContent": {"total": "many"}},
}


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
        result = ANSWERS.get(request["params"]["name"]) or {"content": [{"type": "text", "text": json.dumps(args, sort_keys=True)}]}
    else:
        return {"jsonrpc": "2.0", "id": request["id"], "error": {"code": -32601, "message": f"no {method}"}}
    return {"jsonrpc": "2.0", "id": request["id"], "result": result}


for line in sys.stdin:
    reply = answer(json.loads(line))
    if reply is not None:
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()
