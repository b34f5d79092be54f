"""`glmcode mcp list | get | add | remove`: the MCP servers in the config files, and whether
they start."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any

_SECRET_NAME = re.compile(r"token|secret|key|pass|auth|credential|cookie|session", re.IGNORECASE)

SCOPES = ("user", "project")


def add_mcp_commands(app: Any) -> None:
    import typer

    mcp = typer.Typer(help="Manage MCP servers: list, get, add, remove.", no_args_is_help=True, rich_markup_mode=None)
    scope_opt = typer.Option(None, "--scope", help="user (your config file; the default) or project (.glmcode/config.toml, and for remove .mcp.json too).")

    @mcp.command("list")
    def list_(check: bool = typer.Option(True, "--check/--no-check", help="Start each server to see that it works.")) -> None:
        """List the configured servers, where each comes from, and whether it starts."""
        raise typer.Exit(list_command(check=check))

    @mcp.command("get")
    def get(name: str = typer.Argument(..., help="The server's name.")) -> None:
        """Show one server's configuration and its tools."""
        raise typer.Exit(get_command(name))

    @mcp.command("add")
    def add(
        name: str = typer.Argument(None, help="The server's name (with --preset: the preset's own)."),
        command: list[str] = typer.Argument(None, help="After --: the command that starts a stdio server."),
        url: str = typer.Option(None, "--url", help="The URL of a streamable-HTTP (or SSE) server."),
        transport: str = typer.Option(None, "--transport", help="http (default for --url) or sse."),
        header: list[str] = typer.Option(None, "--header", help="An HTTP header, K=V (repeatable)."),
        env: list[str] = typer.Option(None, "--env", "-e", help="An environment variable for the server, K=V (repeatable)."),
        preset: str = typer.Option(None, "--preset", help="zai-web-search, zai-web-reader, zai-zread or zai-vision."),
        scope: str = scope_opt,
    ) -> None:
        """Add a server: `add NAME -- CMD ARGS...`, `add NAME --url URL`, or `add --preset NAME`."""
        raise typer.Exit(add_command(name, list(command or ()), url=url, transport=transport,
                                     headers=list(header or ()), env=list(env or ()), preset=preset, scope=scope))

    @mcp.command("remove")
    def remove(name: str = typer.Argument(..., help="The server's name."), scope: str = scope_opt) -> None:
        """Remove a server from the config file that defines it."""
        raise typer.Exit(remove_command(name, scope))

    app.add_typer(mcp, name="mcp")


def _fail(message: str, code: int = 2) -> int:
    sys.stderr.write(f"glmcode: {message}\n")
    return code


def _root() -> Path:
    from glmcode.paths import find_project_root

    return find_project_root(Path.cwd())


def _pairs(items: list[str], what: str) -> dict[str, str]:
    out = {}
    for item in items:
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise ValueError(f"{what} {item!r} must be written K=V")
        out[key.strip()] = value
    return out


def add_command(
    name: str | None, command: list[str], *, url: str | None, transport: str | None,
    headers: list[str], env: list[str], preset: str | None, scope: str | None,
) -> int:
    from glmcode.config.errors import ConfigError, tilde
    from glmcode.config.mcp_edit import add_to_toml
    from glmcode.config.mcp_servers import parse_server
    from glmcode.config.trust import is_trusted
    from glmcode.config.values import Invalid
    from glmcode.paths import project_config_file, user_config_file

    scope = scope or "user"
    if scope not in SCOPES:
        return _fail(f"--scope must be user or project, got {scope!r}")
    resolved: list[tuple[str, str]] = []
    root = _root()
    path = user_config_file(os.environ) if scope == "user" else project_config_file(root)
    try:
        if preset is not None:
            if command or url:
                return _fail("--preset brings its own command or URL; give neither")
            spec = _preset_spec(preset, name, path, scope)
        else:
            if not name:
                return _fail("name the server: glmcode mcp add NAME -- CMD ARGS..., or NAME --url URL")
            if bool(command) == bool(url):
                return _fail("give either a command (after --) or --url, not " + ("both" if url else "neither"))
            if command and scope == "user":
                command, resolved = _absolute(command, Path.cwd())
            table: dict[str, Any] = {"command": command[0], "args": command[1:]} if command else {"url": url}
            if env:
                table["env"] = _pairs(env, "--env")
            if headers:
                table["headers"] = _pairs(headers, "--header")
            if transport:
                table["transport"] = transport
            spec = parse_server(name, table, source=tilde(path), scope=scope)
        add_to_toml(path, spec)
    except (ValueError, Invalid) as exc:
        return _fail(str(exc))
    except ConfigError as exc:
        return _fail(str(exc))
    out = sys.stdout
    out.write(f"added MCP server {spec.name} ({spec.transport} {spec.target}) to {tilde(path)}\n")
    for label, values in (("--env", spec.env), ("--header", spec.headers)):
        for key, value in values.items():
            if _masked(key, value) != value:  # a secret, written as it is
                out.write(f"note: {label} {key} is written into {tilde(path)} as it is; "
                          f"'{key}=${{VARIABLE}}' (in single quotes) keeps it in your environment instead\n")
    for word, full in resolved:
        out.write(f"note: {word} is saved as {full}, so that every project starts this file and not one of its own\n")
    for note in _shadowing(spec, root):
        out.write(f"note: {note}\n")
    if scope == "project" and not _trusted(is_trusted, root):
        out.write("it starts once you run `glmcode trust` in this project\n")
    return 0


def _absolute(command: list[str], here: Path) -> tuple[list[str], list[tuple[str, str]]]:
    """The command with each relative path to an existing file made absolute. A server in the
    user's file starts in whichever workspace glmcode runs in, so `python server.py` kept as it is
    would run each repository's own server.py, including one the user has not trusted."""
    words, resolved = [], []
    for index, word in enumerate(command):
        path = Path(word).expanduser()
        looks_like_path = index > 0 or os.sep in word
        if looks_like_path and not word.startswith("-") and not path.is_absolute() and (here / path).is_file():
            full = str((here / path).resolve())
            resolved.append((word, full))
            word = full
        words.append(word)
    return words, resolved


def _shadowing(spec: Any, root: Path) -> list[str]:
    """Which other file defines the same name, and which of the two this project uses: later
    files win (the user's, then the project's `.mcp.json`, then its `.glmcode/config.toml`),
    but a project's entries count only once it is trusted."""
    from glmcode.config.errors import ConfigError
    from glmcode.config.mcp_sources import all_definitions
    from glmcode.config.trust import is_trusted

    try:
        definitions = [d for d in all_definitions(root, os.environ) if d.name == spec.name]
    except ConfigError:
        return []  # a broken file is named when glmcode starts
    at = next((i for i, d in enumerate(definitions) if d.source == spec.source), None)
    if at is None:
        return []
    trusted = _trusted(is_trusted, root)
    notes = []
    for i, other in enumerate(definitions):
        if other.source == spec.source:
            continue
        if i < at:
            verdict = "the one just added takes its place in this project"
        elif other.scope == "project" and not trusted:
            verdict = "once you trust this project, that one takes the place of the one just added"
        else:
            verdict = "in this project that one takes the place of the one just added"
        notes.append(f"{other.source} also defines {spec.name}; {verdict}")
    return notes


def _project_defines(name: str, root: Path) -> bool:
    from glmcode.config.errors import ConfigError
    from glmcode.config.mcp_sources import all_definitions

    try:
        return any(d.name == name and d.scope == "project" for d in all_definitions(root, os.environ))
    except ConfigError:
        return False


def _trusted(is_trusted: Any, root: Path) -> bool:
    from glmcode.config.errors import ConfigError

    try:
        return bool(is_trusted(root, os.environ))
    except ConfigError:
        return False


def _preset_spec(preset: str, name: str | None, path: Path, scope: str) -> Any:
    from dataclasses import replace

    from glmcode.config.errors import tilde
    from glmcode.config.layers import load_settings
    from glmcode.config.mcp_servers import check_name
    from glmcode.mcp.presets import preset as make_preset

    provider = load_settings(Path.cwd(), os.environ).provider
    spec = make_preset(preset, provider, source=tilde(path), scope=scope)
    return replace(spec, name=check_name(name)) if name else spec


def remove_command(name: str, scope: str | None) -> int:
    from glmcode.config.errors import ConfigError, tilde
    from glmcode.config.mcp_edit import remove_from_json, remove_from_toml
    from glmcode.paths import project_config_file, project_mcp_json, user_config_file

    scope = scope or "user"
    if scope not in SCOPES:
        return _fail(f"--scope must be user or project, got {scope!r}")
    root = _root()
    # Without --scope project, the project's files are left alone: they may be shared and
    # committed, and removing a name from them is the project's choice, not a side effect.
    places = [(user_config_file(os.environ), remove_from_toml)] if scope == "user" else \
        [(project_config_file(root), remove_from_toml), (project_mcp_json(root), remove_from_json)]
    removed = []
    try:
        for path, remove in places:
            if remove(path, name):
                removed.append(tilde(path))
    except ConfigError as exc:
        return _fail(str(exc))
    if not removed:
        if scope == "user" and _project_defines(name, root):
            return _fail(f"no MCP server named {name} in your config file; this project defines it "
                         f"(remove it there with --scope project)", 1)
        where = {"user": "your config file", "project": "this project's files"}[scope]
        return _fail(f"no MCP server named {name} in {where}", 1)
    sys.stdout.write(f"removed MCP server {name} from {', '.join(removed)}\n")
    return 0


def list_command(*, check: bool) -> int:
    from glmcode.config.errors import ConfigError
    from glmcode.config.layers import load_settings
    from glmcode.config.mcp_sources import all_definitions
    from glmcode.config.trust import is_trusted

    root = _root()
    problems: list[str] = []
    try:
        settings = load_settings(Path.cwd(), os.environ)
        defined = all_definitions(root, os.environ, problems)
    except ConfigError as exc:
        return _fail(str(exc))
    for problem in problems:
        sys.stderr.write(f"glmcode: {problem}\n")
    if not defined:
        sys.stdout.write("no MCP servers configured; add one with `glmcode mcp add NAME -- CMD ARGS...`\n")
        return 0
    used = {s.name: s for s in settings.mcp_servers}
    states = _check(settings.mcp_servers, settings.api_key) if check else {}
    trusted = is_trusted(root, os.environ)
    for spec in defined:
        # An untrusted project's entry is left out before any name is weighed against another.
        if spec.scope == "project" and not trusted:
            status = "not started: the project is not trusted (glmcode trust)"
        elif used.get(spec.name) is not None and used[spec.name].source != spec.source:
            status = f"overridden by {used[spec.name].source}"
        elif not spec.enabled:
            status = "disabled"
        elif spec.name in states:
            status = _status_line(states[spec.name])
        else:
            status = "enabled"
        sys.stdout.write(f"{spec.name}  {spec.transport} {spec.target}  ({spec.source})  {status}\n")
    # A script's `glmcode mcp list --check` fails when a server it would use does not start.
    return 1 if any(state.status != "ready" for state in states.values()) else 0


def _check(specs: Any, api_key: str | None) -> dict[str, Any]:
    """The servers started, waited for, and ended again: their states."""
    from dataclasses import replace

    from glmcode.mcp.manager import McpManager

    manager = McpManager(specs, os.environ, api_key, Path.cwd())
    manager.start()
    try:
        manager.wait_settled()
        # Copies: closing the manager marks every server stopped.
        return {name: replace(state) for name, state in manager.states.items()}
    finally:
        manager.close()


def _status_line(state: Any) -> str:
    from glmcode.text import count

    if state.status == "ready":
        offered = len(_offered(state).tools)
        return f"ready · {count(len(state.tools), 'tool')}" + ("" if offered == len(state.tools) else f", {offered} offered")
    return f"failed: {state.failure()}"


def _offered(state: Any) -> Any:
    """What the model would be offered of the server's tools (nothing is called here)."""
    from glmcode.mcp.tools import offer

    def not_here(server: str, tool: str, args: dict[str, Any]) -> Any:
        raise RuntimeError("glmcode mcp calls no tool")

    return offer(state, not_here)


def get_command(name: str) -> int:
    from glmcode.config.errors import ConfigError
    from glmcode.config.layers import load_settings
    from glmcode.config.mcp_sources import all_definitions

    try:
        settings = load_settings(Path.cwd(), os.environ)
        defined = [s for s in all_definitions(_root(), os.environ) if s.name == name]
    except ConfigError as exc:
        return _fail(str(exc))
    spec = next((s for s in settings.mcp_servers if s.name == name), None)
    if spec is None and not defined:
        return _fail(f"no MCP server named {name}; `glmcode mcp list` shows them", 1)
    out = sys.stdout
    shown = spec or defined[-1]
    out.write(f"{name}\n  source: {shown.source} ({shown.scope})\n  transport: {shown.transport}\n")
    out.write(("  command: " if shown.transport == "stdio" else "  url: ") + shown.target + "\n")
    for label, table in (("env", shown.env), ("headers", shown.headers)):
        for key, value in table.items():
            out.write(f"  {label}: {key}={_masked(key, value)}\n")
    if shown.bearer_token_env_var:
        out.write(f"  bearer token from: {shown.bearer_token_env_var}\n")
    out.write(f"  enabled: {'yes' if shown.enabled else 'no'}\n")
    out.write(f"  startup_timeout_s: {shown.startup_timeout_s:g}  tool_timeout_s: {shown.tool_timeout_s:g}\n")
    if shown.enabled_tools is not None:
        out.write(f"  enabled_tools: {', '.join(shown.enabled_tools) or '(none)'}\n")
    if shown.disabled_tools:
        out.write(f"  disabled_tools: {', '.join(shown.disabled_tools)}\n")
    if spec is None:
        out.write("  not started: the project is not trusted (glmcode trust)\n")
        return 0
    if not spec.enabled:
        return 0
    state = _check([spec], settings.api_key).get(name)
    if state is None:
        return 0
    out.write(f"  status: {_status_line(state)}\n")
    from glmcode.mcp.tools import hints, tool_name

    left_out = dict(_offered(state).left_out)
    for tool in state.tools:
        offered = "" if spec.offers(tool.name) else "  (not offered: enabled_tools/disabled_tools)"
        if tool.name in left_out:
            offered = f"  (left out: {left_out[tool.name]})"
        note = hints(tool)
        out.write(f"    {tool_name(name, tool.name)}{offered}{f'  [{note}]' if note else ''}\n")
        if tool.description:
            out.write(f"      {tool.description.strip().splitlines()[0][:160]}\n")
    return 0 if state.status == "ready" else 1


def _masked(key: str, value: str) -> str:
    """A value as configured: references shown; anything named like a secret, or shaped like
    a token (long, one word, not a path), masked."""
    if "${" in value:
        return value
    secret_name = _SECRET_NAME.search(key) is not None
    token_shaped = len(value) >= 16 and not any(c in value for c in " /\\")
    if not (secret_name or token_shaped):
        return value
    from glmcode.config.display import mask_secret

    return mask_secret(value)
