"""Where MCP servers are configured, later winning by name: the user's config file, the
project's `.mcp.json` and `.glmcode/config.toml`, and `--mcp-config` files given for one run.

A project's servers are commands a repository makes glmcode run, so they are kept only once
the user has trusted the project; until then each is named in a warning. A project's
`.mcp.json` is often written for another tool: what glmcode cannot use of it is left out with a
warning, where a mistake in a file of glmcode's own stops it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from glmcode.config.errors import ConfigError, tilde
from glmcode.config.files import ConfigFiles
from glmcode.config.mcp_servers import ServerSpec, parse_server
from glmcode.config.trust import UNTIL_TRUSTED, is_trusted
from glmcode.config.values import Invalid
from glmcode.paths import project_config_file, project_mcp_json, user_config_file



def servers_in_toml(path: Path, scope: str, files: ConfigFiles | None = None) -> list[ServerSpec]:
    data = (files or ConfigFiles()).toml(path)
    if not data or "mcp_servers" not in data:
        return []
    table = data["mcp_servers"]
    if not isinstance(table, dict):
        raise ConfigError("expected tables [mcp_servers.NAME]", path=path, key="mcp_servers")
    out = []
    for name, entry in table.items():
        try:
            out.append(parse_server(name, entry, source=tilde(path), scope=scope))
        except Invalid as exc:
            raise ConfigError(str(exc), path=path, key=f"mcp_servers.{name}") from None
    return out


def servers_in_json(
    path: Path, scope: str, *, required: bool = False, files: ConfigFiles | None = None,
    problems: list[str] | None = None,
) -> list[ServerSpec]:
    """Servers of a `.mcp.json`-style file: `{"mcpServers": {NAME: {...}}}`. With `problems`,
    what cannot be used is said there and left out instead of raising ConfigError."""

    def refuse(error: ConfigError) -> None:
        if problems is None:
            raise error
        problems.append(f"{error}; glmcode leaves it out")

    text = (files or ConfigFiles()).text(path)
    if text is None:
        if required:
            raise ConfigError("does not exist", path=path)
        return []
    try:
        data = json.loads(text)
    except ValueError as exc:
        refuse(ConfigError(f"is not valid JSON ({exc})", path=path))
        return []
    servers = data.get("mcpServers") if isinstance(data, dict) else None
    if not isinstance(servers, dict):
        refuse(ConfigError('expected {"mcpServers": {"NAME": {"command": ...} or {"url": ...}}}', path=path))
        return []
    out = []
    for name, entry in servers.items():
        try:
            out.append(parse_server(name, entry, source=tilde(path), scope=scope, strict=False))
        except Invalid as exc:
            refuse(ConfigError(str(exc), path=path, key=f"mcpServers.{name}"))
    return out


def _flag_file(text: str, cwd: Path, files: ConfigFiles) -> list[ServerSpec]:
    path = Path(text).expanduser()
    path = path if path.is_absolute() else cwd / path
    if path.suffix == ".toml":
        if files.text(path) is None:
            raise ConfigError("does not exist", path=path)
        return servers_in_toml(path, "flag", files)
    return servers_in_json(path, "flag", required=True, files=files)


def load_mcp_servers(
    root: Path, env: Mapping[str, str], cwd: Path, flag_files: Iterable[str] = (),
    files: ConfigFiles | None = None,
) -> tuple[tuple[ServerSpec, ...], tuple[str, ...]]:
    """The servers to run here, by name, and a warning for each project server left out."""
    files = files or ConfigFiles()
    chosen: dict[str, ServerSpec] = {}
    for spec in servers_in_toml(user_config_file(env), "user", files):
        chosen[spec.name] = spec
    warnings: list[str] = []
    project = [*servers_in_json(project_mcp_json(root), "project", files=files, problems=warnings),
               *servers_in_toml(project_config_file(root), "project", files)]
    if project:
        if is_trusted(root, env):
            chosen.update((s.name, s) for s in project)
        else:
            for spec in project:
                warnings.append(
                    f"{spec.source} defines the MCP server {spec.name} ({spec.target}); "
                    f"it is not started {UNTIL_TRUSTED}"
                )
    for text in flag_files:
        chosen.update((s.name, s) for s in _flag_file(text, cwd, files))
    return tuple(chosen.values()), tuple(warnings)


def all_definitions(root: Path, env: Mapping[str, str], problems: list[str] | None = None) -> list[ServerSpec]:
    """Every server definition in the user's and the project's files, trusted or not, for
    `glmcode mcp list`: a name may appear more than once. What the project's `.mcp.json` holds
    that glmcode cannot use is left out, and said in `problems`."""
    return [
        *servers_in_toml(user_config_file(env), "user"),
        *servers_in_json(project_mcp_json(root), "project", problems=[] if problems is None else problems),
        *servers_in_toml(project_config_file(root), "project"),
    ]


def describe_servers(servers: Iterable[ServerSpec]) -> list[tuple[str, str, str]]:
    """Rows for `glmcode config`: (mcp_servers.NAME, what it runs, where it came from)."""
    rows = []
    for spec in servers:
        what = f"{spec.transport} {spec.target}" + ("" if spec.enabled else " (disabled)")
        rows.append((f"mcp_servers.{spec.name}", what, spec.source))
    return rows

