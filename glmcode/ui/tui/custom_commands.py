"""Custom commands in the interactive session: their lines in `/help` and Tab completion, and
running one (under the model its front matter names, for that prompt only)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from glmcode.commands.discovery import CommandSet, CustomCommand, find_commands
from glmcode.config.errors import tilde
from glmcode.ui.tui.input import CommandHint

if TYPE_CHECKING:
    from glmcode.ui.tui.host import SessionHost


def load(session: SessionHost, reserved: list[str]) -> CommandSet:
    # Read again each time: a command file written during the session is there at once.
    return find_commands(session.settings.project_root, reserved, os.environ)


def usage(command: CustomCommand) -> str:
    return f"/{command.name} {command.argument_hint}".rstrip()


def hints(found: CommandSet) -> list[CommandHint]:
    return [CommandHint(c.name, usage(c), _described(c)) for c in found.commands.values()]


def origin(command: CustomCommand) -> str:
    where = f"{command.scope}: {tilde(command.path)}"
    if command.overrides is not None:
        where += f"; replaces the user command in {tilde(command.overrides)}"
    return where


def show_help(session: SessionHost, found: CommandSet) -> None:
    from rich.table import Table
    from rich.text import Text

    console = session.console
    if not found.commands and not found.problems:
        return
    console.print()
    console.print("Custom commands", style="bold underline")
    table = Table.grid(padding=(0, 3))
    table.add_column(style="bold")
    table.add_column()
    for command in found.commands.values():
        table.add_row(Text(usage(command)), Text.assemble(_described(command), (f"  ({origin(command)})", "dim")))
    console.print(table)
    for problem in found.problems:
        console.print(f"  {problem}", style="yellow", markup=False, highlight=False)


def run(session: SessionHost, command: CustomCommand, arguments: str) -> None:
    from glmcode.commands.expand import expand

    prompt = expand(command, arguments)
    model = command.model
    before = session.settings.model
    if not model or model == before:
        session.send(prompt)
        return
    session.console.print(f"  /{command.name} runs on {model}", style="dim", markup=False)
    session.set_model(model)
    try:
        session.send(prompt)
    finally:
        session.set_model(before)


def _described(command: CustomCommand) -> str:
    tag = " (project)" if command.scope == "project" else " (user)"
    return (command.description or "custom command") + tag
