"""A server's tool listing, read before the SDK checks it against the protocol.

The SDK refuses a whole `tools/list` answer when one tool's input schema is not an object
schema, so one odd tool would take every other tool of the server with it. Each such schema is
set aside here and a plain object schema put in its place; the tool is then built from the
schema set aside, which glmcode's own check refuses with its reason, leaving out that tool alone.
"""

from __future__ import annotations

from typing import Any


class SetAside:
    """The schemas taken out of listings, by tool name, for one connection."""

    def __init__(self) -> None:
        self.schemas: dict[str, Any] = {}

    def repair(self, message: Any) -> None:
        """Mends a tools/list answer in place; any other message is left as it is."""
        result = getattr(message, "result", None)
        tools = result.get("tools") if isinstance(result, dict) else None
        if not isinstance(tools, list):
            return
        for tool in tools:
            if not isinstance(tool, dict) or not isinstance(tool.get("name"), str):
                continue
            # An output schema the SDK would refuse too only serves to check results.
            if "outputSchema" in tool and not _object_schema(tool["outputSchema"]):
                del tool["outputSchema"]
            schema = tool.get("inputSchema")
            if _object_schema(schema):
                self.schemas.pop(tool["name"], None)
            else:
                self.schemas[tool["name"]] = schema
                tool["inputSchema"] = {"type": "object"}

    def schema_of(self, name: str, listed: dict[str, Any]) -> Any:
        return self.schemas.get(name, listed)


def _object_schema(schema: Any) -> bool:
    return isinstance(schema, dict) and schema.get("type") == "object"
