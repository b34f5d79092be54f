"""A prompt that starts with `/name`: the custom command it names, filled in with its
arguments and with its `@path` mentions attached, as the interactive session would send it.
`exec "/review src/"` goes through here."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from glmcode.commands.discovery import CommandSet, find_commands
from glmcode.commands.expand import expand, parse_invocation
from glmcode.commands.shell import shell_runner

if TYPE_CHECKING:
    from glmcode.config.settings import Settings


class UnknownCommand(Exception):
    """The prompt names no custom command; the message lists the ones there are."""


@dataclass(frozen=True)
class CustomPrompt:
    name: str
    message: str  # what goes to the model
    model: str | None
    problems: tuple[str, ...]  # mentions not attached, front matter not understood


def custom_commands(project_root: Path) -> CommandSet:
    from glmcode.config.trust import is_trusted
    from glmcode.ui.tui.commands import builtin_names

    trusted = is_trusted(project_root, os.environ)
    return find_commands(project_root, builtin_names(), os.environ, trusted=trusted)


def expand_custom(line: str, project_root: Path, cwd: Path) -> CustomPrompt | None:
    """None when `line` is not a `/command` line; UnknownCommand when no command has that name."""
    from glmcode.ui.tui.commands import builtin_names
    from glmcode.ui.tui.mentions import expand_mentions

    invocation = parse_invocation(line)
    if invocation is None:
        return None
    name, arguments = invocation
    found = custom_commands(project_root)
    command = found.get(name)
    if command is None:
        if name in builtin_names():
            raise UnknownCommand(f"/{name} is a command of the interactive session; exec runs custom commands only")
        names = ", ".join(f"/{n}" for n in found.commands) or "none (see docs/commands.md for how to add one)"
        problems = "".join(f"\n  {p}" for p in (*found.problems, *found.ignored))
        raise UnknownCommand(f"no custom command /{name}; the custom commands are: {names}{problems}")
    expanded = expand_mentions(expand(command, arguments, shell_runner(cwd)), cwd)
    own = [p for p in found.problems if p.startswith(command.shown + ":")]
    return CustomPrompt(name, expanded.message, command.model, (*own, *expanded.problems))


def for_exec(prompt: str, settings: Settings, cwd: Path) -> tuple[str, Settings, tuple[str, ...]]:
    """The message and settings `exec` runs `prompt` with, and what to warn about."""
    custom = expand_custom(prompt, settings.project_root, cwd)
    if custom is None:
        return prompt, settings, ()
    if custom.model:
        settings = replace(settings, model=custom.model)
    return custom.message, settings, custom.problems
