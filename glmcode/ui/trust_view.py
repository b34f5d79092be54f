"""`glmcode trust`: remember a project as trusted, and say what in its files that lets in."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path

# What comes before UNTIL_TRUSTED in those messages: how the entry is held back.
_HELD = re.compile(r"[;,]?\s*(?:it is not started|(?:so /\S+ )?is ignored|ignored)\s*$")


def trust_command(path: str | None) -> int:
    from glmcode.config.trust import is_trusted, trust_project
    from glmcode.paths import find_project_root

    root = Path(path).expanduser().resolve() if path else find_project_root(Path.cwd())
    if not root.is_dir():
        sys.stderr.write(f"glmcode: {root} is not a folder\n")
        return 2
    if is_trusted(root, os.environ):
        sys.stdout.write(f"{root} is trusted already\n")
        return 0
    held, problems = held_for_trust(root, os.environ)
    trust_project(root, os.environ)
    for problem in problems:
        sys.stderr.write(f"glmcode: {problem}\n")
    out = sys.stdout
    if problems and not held:
        out.write(f"trusted {root}; glmcode could not read all of its files, so cannot say what they ask for\n")
        return 0
    if not held:
        out.write(f"trusted {root}: nothing in its files waited for it; what they add later "
                  "(permissive settings, MCP servers, hooks, agents or commands that run things) applies\n")
        return 0
    out.write(f"trusted {root}; glmcode now uses what its files ask for:\n")
    for text in held:
        out.write(f"  {text}\n")
    return 0


def held_for_trust(root: Path, env: Mapping[str, str]) -> tuple[list[str], list[str]]:
    """What the project's files ask for that glmcode leaves out until the project is trusted:
    settings that widen permissions, MCP servers, hooks, agents that write, commands that run
    shell lines. And the problems that kept glmcode from reading some of them."""
    from glmcode.commands.discovery import find_commands
    from glmcode.config.errors import ConfigError
    from glmcode.config.files import ConfigFiles
    from glmcode.config.layers import load_settings
    from glmcode.config.trust import UNTIL_TRUSTED
    from glmcode.hooks.config import load_hooks
    from glmcode.paths import config_dir
    from glmcode.subagents.catalog import load_catalog
    from glmcode.tools.registry import Registry
    from glmcode.ui.tui.commands import builtin_names

    files = ConfigFiles()
    notes: list[str] = []
    problems: list[str] = []
    try:
        notes += load_settings(root, env, {}, files).warnings  # with the MCP servers'
        notes += load_hooks(root, env, files).ignored
    except ConfigError as exc:
        problems.append(str(exc))
    notes += load_catalog(root, config_dir(env), Registry.builtin().kinds(), lambda: False).warnings
    notes += find_commands(root, builtin_names(), env, trusted=False).ignored
    held = [_HELD.sub("", text[: -len(UNTIL_TRUSTED)]) for text in notes if text.endswith(UNTIL_TRUSTED)]
    return held, problems
