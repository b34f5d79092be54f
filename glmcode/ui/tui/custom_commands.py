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
    from glmcode.config.trust import is_trusted

    root = session.settings.project_root
    return find_commands(root, reserved, os.environ, trusted=is_trusted(root, os.environ))


def usage(command: CustomCommand) -> str:
    return f"/{command.name} {command.argument_hint}".rstrip()


def hints(found: CommandSet) -> list[CommandHint]:
    return [CommandHint(c.name, usage(c), _described(c)) for c in found.commands.values()]


def origin(command: CustomCommand) -> str:
    where = f"{command.scope}: {command.shown}"
    if command.overrides is not None:
        where += f"; replaces the user command in {tilde(command.overrides)}"
    return where


def show_help(session: SessionHost, found: CommandSet) -> None:
    from rich.table import Table
    from rich.text import Text

    console = session.console
    if not found.commands and not found.problems and not found.ignored:
        return
    console.print()
    console.print("Custom commands", style="bold underline")
    table = Table.grid(padding=(0, 3))
    table.add_column(style="bold")
    table.add_column()
    for command in found.commands.values():
        table.add_row(Text(usage(command)), Text.assemble(_described(command), (f"  ({origin(command)})", "dim")))
    console.print(table)
    for problem in (*found.problems, *found.ignored):
        console.print(f"  {problem}", style="yellow", markup=False, highlight=False)


def run(session: SessionHost, command: CustomCommand, arguments: str) -> None:
    from glmcode.commands.expand import expand
    from glmcode.commands.shell import shell_runner

    def report(line: str, code: int | None) -> None:
        how = "stopped at its time limit" if code is None else f"exit {code}"
        session.console.print(f"  ran !`{line}` ({how})", style="dim", markup=False, highlight=False)

    prompt = expand(command, arguments, shell_runner(session.cwd, report))
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
