"""`glmcode config`: what the settings are, and whose word they are."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from glmcode.config.files import ConfigFiles


def config_command(flags: dict[str, Any], *, cd: str | None) -> int:
    from glmcode.config.display import describe
    from glmcode.config.errors import ConfigError
    from glmcode.config.files import ConfigFiles
    from glmcode.config.layers import load_settings
    from glmcode.paths import project_config_file, user_config_file

    cwd = Path(cd).expanduser().resolve() if cd else Path.cwd()
    files = ConfigFiles()
    try:
        settings = load_settings(cwd, os.environ, flags, files)
    except ConfigError as exc:
        sys.stderr.write(f"glmcode: {exc}\n")
        return 2
    rows = describe(settings)
    width = max(len(k) for k, _, _ in rows)
    value_width = min(48, max(len(v) for _, v, _ in rows))
    out = sys.stdout
    for key, value, source in rows:
        out.write(f"{key.ljust(width)}  {value.ljust(value_width)}  ({source})\n")
    out.write(f"\nsandbox:        {_sandbox_in_force(settings, cwd)}\n")
    out.write(f"web tools:      {_web_tools(settings)}\n")
    out.write(f"user config:    {user_config_file(os.environ)}\n")
    out.write(f"project config: {project_config_file(settings.project_root)}\n")
    for warning in getattr(settings, "warnings", ()):
        out.write(f"note: {warning}\n")
    return _show_hooks(settings.project_root, files)


def _show_hooks(project_root: Path, files: ConfigFiles) -> int:
    from glmcode.config.errors import ConfigError
    from glmcode.hooks.config import load_hooks

    try:
        hooks = load_hooks(project_root, os.environ, files)
    except ConfigError as exc:
        sys.stderr.write(f"glmcode: {exc}\n")
        return 2
    if hooks.hooks:
        sys.stdout.write("\nhooks, in the order they run:\n")
    for hook in hooks.hooks:
        tools = f" [{hook.matcher}]" if hook.matcher else ""
        sys.stdout.write(f"  {hook.event}{tools}: {hook.command}  ({hook.source}, timeout {hook.timeout_s:g}s)\n")
    for text in hooks.ignored:
        sys.stdout.write(f"note: {text}\n")
    return 0


def _web_tools(settings: Any) -> str:
    from glmcode.agent.setup import tools_left_out
    from glmcode.llm.catalog import RESELLERS

    if not settings.web:
        return "off (web = false)"
    if "web_search" in tools_left_out(settings):
        return (f"web_fetch; no web_search with provider {settings.provider}, "
                f"as {RESELLERS[settings.provider]} does not offer GLM's search API")
    return "web_fetch, web_search"


def _sandbox_in_force(settings: Any, cwd: Path) -> str:
    from glmcode.sandbox.choose import choose_sandbox

    choice = choose_sandbox(settings.sandbox, settings.sandbox_network, cwd, (), os.environ)
    if choice.sandbox is not None:
        return choice.sandbox.describe()
    if choice.notice is not None:
        return f"none: {choice.notice}"
    return "off: commands run with your full rights"
