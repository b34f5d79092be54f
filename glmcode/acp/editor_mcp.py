"""The MCP servers an editor names in `session/new` and `session/load`, as glmcode's own server
definitions: started with the session like configured ones. They are the user's own editor
settings, so they need no project trust; one the editor names like a configured server
replaces it for that session."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from glmcode.config.mcp_servers import ServerSpec

SOURCE = "the editor"


def editor_servers(servers: Sequence[Any]) -> list[ServerSpec]:
    """stdio servers (`command`, `args`, `env`), and HTTP and SSE ones (`url`, `headers`)."""
    specs = []
    for server in servers:
        kind = getattr(server, "type", None) or "stdio"
        pairs = {item.name: item.value for item in (getattr(server, "env", None) or getattr(server, "headers", None) or ())}
        if kind == "stdio":
            specs.append(ServerSpec(server.name, "stdio", SOURCE, "flag", command=server.command,
                                    args=tuple(server.args or ()), env=pairs))
        else:
            specs.append(ServerSpec(server.name, kind, SOURCE, "flag", url=server.url, headers=pairs))
    return specs


def with_editor_servers(configured: Sequence[ServerSpec], servers: Sequence[Any]) -> tuple[ServerSpec, ...]:
    named = {spec.name: spec for spec in configured}
    for spec in editor_servers(servers):
        named[spec.name] = spec
    return tuple(named.values())
