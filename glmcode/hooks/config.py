"""The hooks in force: `[[hooks.EVENT]]` tables in the user's config file, then in the project's
`.glmcode/config.toml`. A project's hooks run code from the repository, so they count only once
the user has trusted the project; until then they are named as ignored."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from glmcode.config.errors import ConfigError, tilde
from glmcode.config.files import ConfigFiles
from glmcode.config.trust import UNTIL_TRUSTED, is_trusted
from glmcode.config.values import show
from glmcode.paths import project_config_file, user_config_file

EVENTS = ("session_start", "user_prompt_submit", "pre_tool_use", "post_tool_use", "stop", "notification")
TOOL_EVENTS = ("pre_tool_use", "post_tool_use")
DEFAULT_TIMEOUT_S = 60.0
_KEYS = ("command", "matcher", "timeout_s")


@dataclass(frozen=True)
class HookSpec:
    event: str
    command: str
    matcher: str | None  # a regular expression over tool names; None: every tool
    timeout_s: float
    source: str  # the file and line it is defined at
    scope: str  # "user" or "project"

    def matches(self, tool: str | None) -> bool:
        if self.matcher is None or tool is None:
            return True
        return re.fullmatch(self.matcher, tool) is not None


@dataclass(frozen=True)
class HookConfig:
    hooks: tuple[HookSpec, ...] = ()
    ignored: tuple[str, ...] = ()  # project hooks that wait for trust, said for the user

    def for_event(self, event: str, tool: str | None = None) -> tuple[HookSpec, ...]:
        return tuple(h for h in self.hooks if h.event == event and h.matches(tool))


def load_hooks(
    project_root: Path, env: Mapping[str, str] | None = None, files: ConfigFiles | None = None
) -> HookConfig:
    """Raises ConfigError, naming the file and line, for a hook glmcode cannot use. `files`:
    the config files as the settings read them."""
    files = files or ConfigFiles()
    user = _read(user_config_file(env), "user", files)
    project = _read(project_config_file(project_root), "project", files, project_root)
    ignored: tuple[str, ...] = ()
    if project and not is_trusted(project_root, env):
        ignored = tuple(
            f"project hook {h.event} ({h.command}) at {h.source} is ignored {UNTIL_TRUSTED}"
            for h in project
        )
        project = []
    return HookConfig(tuple(user + project), ignored)


def _read(path: Path, scope: str, files: ConfigFiles, root: Path | None = None) -> list[HookSpec]:
    """`root`: the project, whose file is named relative to it."""
    text, data = files.text(path), files.toml(path)
    if text is None or data is None:
        return []
    table = data.get("hooks")
    if table is None:
        return []
    if not isinstance(table, dict):
        raise ConfigError("expected tables like [[hooks.pre_tool_use]]", path=path, line=_line(text, "hooks", 0), key="hooks")
    out = []
    for event, entries in table.items():
        key = f"hooks.{event}"
        if event not in EVENTS:
            raise ConfigError(f"unknown hook event; the events are: {', '.join(EVENTS)}", path=path, line=_line(text, key, 0), key=key)
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise ConfigError(f"expected [[{key}]] tables, got {show(entries)}", path=path, line=_line(text, key, 0), key=key)
        for n, entry in enumerate(entries):
            line = _line(text, key, n)
            out.append(_spec(event, entry, path, line, scope, root))
    return out


def _spec(event: str, entry: dict[str, Any], path: Path, line: int | None, scope: str, root: Path | None) -> HookSpec:
    key = f"hooks.{event}"
    for name in entry:
        if name not in _KEYS:
            raise ConfigError(f"unknown key {name!r} in a hook; the keys are: {', '.join(_KEYS)}", path=path, line=line, key=key)
    command = entry.get("command")
    if not isinstance(command, str) or not command.strip():
        raise ConfigError(f"a hook needs a command (a non-empty string), got {show(command)}", path=path, line=line, key=key)
    matcher = entry.get("matcher")
    if matcher is not None:
        if event not in TOOL_EVENTS:
            raise ConfigError(f"matcher applies only to {' and '.join(TOOL_EVENTS)} hooks", path=path, line=line, key=key)
        if not isinstance(matcher, str) or not matcher.strip():
            raise ConfigError(f"matcher must be a regular expression over tool names, got {show(matcher)}", path=path, line=line, key=key)
        try:
            re.compile(matcher)
        except re.error as exc:
            raise ConfigError(f"matcher is not a valid regular expression: {exc}", path=path, line=line, key=key) from None
    timeout = entry.get("timeout_s", DEFAULT_TIMEOUT_S)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ConfigError(f"timeout_s must be a number of seconds above 0, got {show(timeout)}", path=path, line=line, key=key)
    shown = path.relative_to(root).as_posix() if root is not None else tilde(path)
    where = f"{shown}:{line}" if line else shown
    return HookSpec(event, command.strip(), matcher.strip() if matcher else None, float(timeout), where, scope)


def _line(text: str, key: str, index: int) -> int | None:
    """The line of the `index`-th `[[key]]` header (lines count from 1)."""
    header = re.compile(rf"^\s*\[\[\s*{re.escape(key)}\s*\]\]")
    seen = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if header.match(line):
            if seen == index:
                return number
            seen += 1
    return None
