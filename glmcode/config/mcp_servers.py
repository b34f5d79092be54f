"""MCP servers as configured: one `[mcp_servers.NAME]` table, or one entry of a `.mcp.json`,
checked and turned into a `ServerSpec`. Nothing here starts a server (that is `glmcode.mcp`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from glmcode.config.values import Invalid, show

TRANSPORTS = ("stdio", "http", "sse")
# What other tools write in `type` or `transport`, read as glmcode's own names.
_TRANSPORT_NAMES = {"stdio": "stdio", "http": "http", "streamable-http": "http", "streamable_http": "http",
                    "streamableHttp": "http", "sse": "sse"}
SERVER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}")
DEFAULT_STARTUP_TIMEOUT_S = 10.0
DEFAULT_TOOL_TIMEOUT_S = 60.0
TOML_KEYS = ("command", "args", "env", "cwd", "url", "headers", "bearer_token_env_var", "transport",
             "enabled", "startup_timeout_s", "tool_timeout_s", "enabled_tools", "disabled_tools")


@dataclass(frozen=True)
class ServerSpec:
    """One server. `scope` is whose word it is: "user" (their config file), "project" (the
    repository's files, which need trust), "flag" (--mcp-config for one run). Values may hold
    `${VAR}` references, expanded only when the server starts, so no secret is kept here."""

    name: str
    transport: str
    source: str
    scope: str
    command: str = ""
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: str | None = None
    url: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    bearer_token_env_var: str | None = None
    enabled: bool = True
    startup_timeout_s: float = DEFAULT_STARTUP_TIMEOUT_S
    tool_timeout_s: float = DEFAULT_TOOL_TIMEOUT_S
    enabled_tools: tuple[str, ...] | None = None
    disabled_tools: tuple[str, ...] = ()

    def offers(self, tool: str) -> bool:
        """Whether the configuration lets the model see this tool of the server."""
        if self.enabled_tools is not None and tool not in self.enabled_tools:
            return False
        return tool not in self.disabled_tools

    @property
    def target(self) -> str:
        """What the server is, in one line: its command, or its URL."""
        if self.transport == "stdio":
            import shlex

            return shlex.join([self.command, *self.args])
        return self.url


def check_name(name: str) -> str:
    if not isinstance(name, str) or not SERVER_NAME.fullmatch(name) or "__" in name:
        raise Invalid(
            f"server name {name!r} must be 1-40 letters, digits, '-' or '_' (no '__'), "
            "starting with a letter or digit, e.g. 'github' or 'web-search'"
        )
    return name


def _text(key: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Invalid(f"'{key}' must be a non-empty string, got {show(value)}")
    return value.strip()


def _strings(key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise Invalid(f"'{key}' must be a list of strings, got {show(value)}")
    return tuple(value)


def _table(key: str, value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise Invalid(f"'{key}' must be a table of strings, got {show(value)}")
    out = {}
    for k, v in value.items():
        if isinstance(v, bool) or not isinstance(v, (str, int, float)):
            raise Invalid(f"'{key}.{k}' must be a string, got {show(v)}")
        out[str(k)] = str(v)
    return out


def _seconds(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise Invalid(f"'{key}' must be a number of seconds above 0, got {show(value)}")
    return float(value)


def parse_server(name: str, data: Any, *, source: str, scope: str, strict: bool = True) -> ServerSpec:
    """A server from its table. `strict`: unknown keys are errors (glmcode's own files); a
    `.mcp.json` is shared with other tools, whose own keys are left alone."""
    check_name(name)
    if not isinstance(data, dict):
        raise Invalid(f"server {name!r} must be a table, got {show(data)}")
    if strict:
        unknown = sorted(set(data) - set(TOML_KEYS))
        if unknown:
            import difflib

            close = difflib.get_close_matches(unknown[0], TOML_KEYS, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else f"; known keys: {', '.join(TOML_KEYS)}"
            raise Invalid(f"unknown key '{unknown[0]}' in server {name!r}{hint}")
    kind = data.get("transport", data.get("type"))
    if kind is not None and _TRANSPORT_NAMES.get(str(kind)) is None:
        raise Invalid(f"server {name!r}: transport must be one of {', '.join(TRANSPORTS)}, got {show(kind)}")
    has_command, has_url = "command" in data, "url" in data
    if has_command == has_url:
        raise Invalid(
            f"server {name!r} needs either 'command' (a program glmcode starts) or 'url' "
            "(a server it connects to), not " + ("both" if has_command else "neither")
        )
    transport = _TRANSPORT_NAMES[str(kind)] if kind is not None else ("stdio" if has_command else "http")
    if (transport == "stdio") != has_command:
        raise Invalid(f"server {name!r}: transport {transport} needs " + ("'command'" if transport == "stdio" else "'url'"))
    values: dict[str, Any] = {}
    if has_command:
        values["command"] = _text("command", data["command"])
        values["args"] = _strings("args", data.get("args", []))
        values["env"] = _table("env", data.get("env", {}))
        if data.get("cwd") is not None:
            values["cwd"] = _text("cwd", data["cwd"])
    else:
        url = _text("url", data["url"])
        if not re.match(r"https?://[^/\s]+", url) and "${" not in url:
            raise Invalid(f"server {name!r}: 'url' must be an http:// or https:// URL, got {show(url)}")
        values["url"] = url
        values["headers"] = _table("headers", data.get("headers", {}))
        if data.get("bearer_token_env_var") is not None:
            values["bearer_token_env_var"] = _text("bearer_token_env_var", data["bearer_token_env_var"])
    if "enabled" in data:
        if not isinstance(data["enabled"], bool):
            raise Invalid(f"'enabled' must be true or false, got {show(data['enabled'])}")
        values["enabled"] = data["enabled"]
    for key in ("startup_timeout_s", "tool_timeout_s"):
        if key in data:
            values[key] = _seconds(key, data[key])
    if "enabled_tools" in data:
        values["enabled_tools"] = _strings("enabled_tools", data["enabled_tools"])
    if "disabled_tools" in data:
        values["disabled_tools"] = _strings("disabled_tools", data["disabled_tools"])
    return ServerSpec(name=name, transport=transport, source=source, scope=scope, **values)


def to_table(spec: ServerSpec) -> dict[str, Any]:
    """The spec as the table glmcode writes for it, leaving out what is the default."""
    out: dict[str, Any] = {}
    if spec.transport == "stdio":
        out["command"] = spec.command
        if spec.args:
            out["args"] = list(spec.args)
        if spec.env:
            out["env"] = dict(spec.env)
        if spec.cwd:
            out["cwd"] = spec.cwd
    else:
        out["url"] = spec.url
        if spec.transport == "sse":
            out["transport"] = "sse"
        if spec.headers:
            out["headers"] = dict(spec.headers)
        if spec.bearer_token_env_var:
            out["bearer_token_env_var"] = spec.bearer_token_env_var
    if not spec.enabled:
        out["enabled"] = False
    if spec.startup_timeout_s != DEFAULT_STARTUP_TIMEOUT_S:
        out["startup_timeout_s"] = spec.startup_timeout_s
    if spec.tool_timeout_s != DEFAULT_TOOL_TIMEOUT_S:
        out["tool_timeout_s"] = spec.tool_timeout_s
    if spec.enabled_tools is not None:
        out["enabled_tools"] = list(spec.enabled_tools)
    if spec.disabled_tools:
        out["disabled_tools"] = list(spec.disabled_tools)
    return out
