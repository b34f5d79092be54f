"""A server's tools as glmcode tools: `mcp__SERVER__TOOL`, the server's description and
schema, of their own permission kind, with results turned into text for the model."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from glmcode.mcp.images import checked
from glmcode.mcp.schema import SchemaRefused, for_glm
from glmcode.mcp.state import CallFailed, RemoteResult, RemoteTool, ServerState
from glmcode.tools.base import Tool, ToolContext, ToolError, ToolResult
from glmcode.tools.truncate import head_tail

KIND = "mcp"
PREFIX = "mcp__"
_NAME_LIMIT = 64  # what function-calling APIs accept
_DESCRIPTION_LIMIT = 2000
_HINTS = (
    ("readOnlyHint", True, "read-only"),
    ("destructiveHint", True, "destructive"),
    ("idempotentHint", True, "idempotent"),
    ("openWorldHint", True, "reaches outside systems"),
)

Call = Callable[[str, str, dict[str, Any]], RemoteResult]


@dataclass(frozen=True)
class Offered:
    """What a server's tools became: the tools, and a note for each one left out."""

    tools: tuple[Tool, ...]
    left_out: tuple[tuple[str, str], ...]  # (the server's name for the tool, why it is left out)


def tool_name(server: str, tool: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", tool)
    return f"{PREFIX}{server}__{safe}"[:_NAME_LIMIT]


def server_of(name: str) -> str | None:
    """The server part of an `mcp__SERVER__TOOL` name."""
    if not name.startswith(PREFIX):
        return None
    server, sep, _ = name[len(PREFIX):].partition("__")
    return server if sep else None


def hints(remote: RemoteTool) -> str:
    """The server's annotations, as words: hints for the user, never a permission."""
    words = [label for key, value, label in _HINTS if remote.annotations.get(key) is value]
    title = remote.annotations.get("title")
    return ", ".join(([str(title)] if title else []) + words)


def offer(state: ServerState, call: Call, withheld: Mapping[str, str] | None = None) -> Offered:
    """`withheld`: tools of the server not to offer, each with the reason /mcp shows."""
    tools, left_out, seen = [], [], set()
    for remote in state.tools:
        if not state.spec.offers(remote.name):
            continue
        why = (withheld or {}).get(remote.name)
        if why is not None:
            left_out.append((remote.name, why))
            continue
        name = tool_name(state.name, remote.name)
        if name in seen:
            left_out.append((remote.name, f"its name becomes {name}, like another tool's"))
            continue
        try:
            schema = for_glm(remote.input_schema)
        except SchemaRefused as exc:
            left_out.append((remote.name, str(exc)))
            continue
        seen.add(name)
        tools.append(_tool(state.name, remote, name, schema, call))
    return Offered(tuple(tools), tuple(left_out))


def _tool(server: str, remote: RemoteTool, name: str, schema: dict[str, Any], call: Call) -> Tool:
    description = remote.description.strip() or f"The {remote.name} tool of the MCP server {server}."
    if len(description) > _DESCRIPTION_LIMIT:
        description = description[:_DESCRIPTION_LIMIT].rstrip() + " …"
    shown_hints = hints(remote)

    def run(args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        try:
            result = call(server, remote.name, args)
        except CallFailed as exc:
            raise ToolError(str(exc)) from None
        return as_tool_result(result, name)

    def preview(args: dict[str, Any], ctx: ToolContext) -> str:
        said = f"MCP server {server}, tool {remote.name}"
        if shown_hints:
            said += f" (the server says: {shown_hints})"
        return said + "\n" + json.dumps(args, ensure_ascii=False, indent=2)

    return Tool(name, description, (), KIND, run, preview, input_schema=schema)


def as_tool_result(result: RemoteResult, tool: str) -> ToolResult:
    """The result as text for the model, with the images that can be sent beside it (the
    runner decides how they reach the model) and a note for each that cannot."""
    parts = [t for t in result.texts if t]
    if result.structured is not None and not any(_same_json(t, result.structured) for t in parts):
        # Servers are asked to repeat structured content as text; one that sent other words
        # instead (a summary, say) still has its data reach the model.
        parts.append(json.dumps(result.structured, ensure_ascii=False, indent=2))
    found = checked(result.images, tool)
    parts.extend(found.notes)
    text = "\n".join(parts) or ("(the tool returned only images)" if found.images else "(the tool returned nothing)")
    shown = head_tail(text)
    return ToolResult(text, is_error=result.is_error, model_output=shown if shown != text else None, images=found.images)


def _same_json(text: str, value: object) -> bool:
    # FastMCP servers wrap a plain return value as {"result": value} beside its text.
    if isinstance(value, dict) and len(value) == 1 and "result" in value:
        if text == value["result"] or _same_json(text, value["result"]):
            return True
    try:
        return bool(json.loads(text) == value)
    except ValueError:
        return False
