"""`glmcode`: the interactive session.

Each line typed is a slash command (`/help`), a shell escape (`!ls`) or a message for the agent
(with `@path` mentions attached). A message runs the agent until it answers; its events go to
a view that draws them (TurnView on a terminal, PlainView otherwise), and Ctrl-C stops the run
cleanly, keeping what was written. Without a terminal on both ends the session reads lines
from standard input and writes plain text, so it can be scripted.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from glmcode.agent.sessions_store import Replay
    from glmcode.agent.setup import Workspace
    from glmcode.images.attach import Attached
    from glmcode.ui.tui.approvals import PausingApprover


def interactive_command(
    prompt: str | None, flags: dict[str, Any], *, cd: str | None, resume: str | None = None
) -> int:
    """Opens the session and sends `prompt` first, if given. `resume` names an earlier session
    of the project (an id, its start, or a number from the list) to continue instead of a new one."""
    from glmcode.ui.startup import StartupError, start

    terminal = sys.stdin.isatty() and sys.stdout.isatty()
    try:
        run = start(flags, cd, resume=resume)
    except StartupError as exc:
        sys.stderr.write(f"glmcode: {exc}\n")
        return 2
    settings, cwd, earlier = run.settings, run.cwd, run.resume

    from rich.console import Console

    from glmcode.agent.setup import open_workspace, settle_checkpoints
    from glmcode.ui.tui.approvals import LineApprover, PausingApprover, TerminalApprover, rule_saver

    console = Console(highlight=False) if terminal else Console(color_system=None, highlight=False, emoji=False)
    for warning in settings.warnings:
        console.print(f"glmcode: {warning}", style="yellow", markup=False)
    save_rule = rule_saver(settings.project_root, os.environ)
    if terminal:
        approver = PausingApprover(TerminalApprover(console, save_rule))
    else:
        approver = PausingApprover(LineApprover(console, _read_line, save_rule))
    ws = open_workspace(settings, cwd, approver=approver, resume=earlier, hooks=run.hooks, mcp_restart=True)
    from glmcode.signals import sigterm_as_interrupt

    try:
        session = Session(ws, console, terminal=terminal, approver=approver)
        with sigterm_as_interrupt(ws.mcp is not None, exit_code=143):  # so the servers are ended
            return session.loop(prompt, resumed=earlier)
    finally:
        settle_checkpoints(ws)
        ws.close()


def _read_line(prompt: str) -> str | None:
    sys.stdout.write(prompt)
    sys.stdout.flush()
    line = sys.stdin.readline()
    return line.rstrip("\n") if line else None


class Session:
    """The state the prompt, the views and the slash commands share."""

    def __init__(self, ws: Workspace, console: Console, *, terminal: bool, approver: PausingApprover) -> None:
        from glmcode.ui.tui.commands import SlashCommands
        from glmcode.ui.tui.recent import Recent
        from glmcode.ui.tui.status import SessionStatus

        self.ws = ws
        self.console = console
        self.terminal = terminal
        self.approver = approver
        self.status: SessionStatus = SessionStatus(ws.settings.model, self.mode, ws.agent.context_window, sandbox=ws.sandbox)
        self.recent: Recent = Recent()
        self.commands: SlashCommands = SlashCommands(self)
        self.done = False
        self._read: Callable[[], str | None] = self._prompt_reader() if terminal else lambda: _read_line("> ")

    # -- what the commands use ----------------------------------------------------------------

    @property
    def agent(self) -> Any:
        return self.ws.agent

    @property
    def settings(self) -> Any:
        return self.ws.settings

    @property
    def cwd(self) -> Path:
        return self.ws.cwd

    @property
    def mode(self) -> str:
        return str(self.ws.agent.runner.policy.mode)

    def set_mode(self, mode: str) -> None:
        self.ws.agent.runner.policy.mode = mode
        self.status.mode = mode

    def cycle_mode(self) -> None:
        from glmcode.ui.tui.host import next_mode

        self.set_mode(next_mode(self.mode))

    def set_model(self, name: str) -> None:
        """Talk to another model from the next request on; the conversation stays."""
        from glmcode.llm.catalog import get_model
        from glmcode.llm.client import GLMClient

        agent = self.agent
        old = agent.client
        agent.client = GLMClient(replace(old.config, model=name), known_tools=frozenset(agent.runner.registry.names))
        old.close()
        info = get_model(name)
        agent.context_window = info.context_window
        agent.cost = info.cost
        self.ws.settings = replace(self.ws.settings, model=name)
        self.status.model = name
        self.status.context_window = info.context_window

    def clear(self) -> None:
        """A new conversation: the system prompt alone. It is recorded in the session file, so
        resuming the session goes on from the new conversation, not the old one."""
        from glmcode.agent.rewind import rewind_conversation

        rewind_conversation(self.agent, self.ws.session, 1)
        self.status.last_prompt_tokens = 0
        self.recent.shell_notes.clear()

    # -- the loop -----------------------------------------------------------------------------

    def loop(self, first: str | None, *, resumed: Replay | None = None) -> int:
        """Reads and runs lines until the user leaves; `resumed` is the earlier session the
        workspace continues, which is shown first."""
        self._header()
        if resumed is None:
            from glmcode.ui.tui.custom_commands import load

            ignored = [n.message for n in self.ws.notices] + list(load(self, self.commands.names()).ignored)
            for text in ignored:
                self.console.print(f"glmcode: {text}", style="yellow", markup=False)
        else:
            from glmcode.ui.tui.rewind_commands import show_resumed

            show_resumed(self, resumed)
            if self.terminal:
                self.console.print()
        if first and first.strip():
            if self.terminal:
                self.console.print(f"› {first}", style="bold", markup=False)
            self.submit(first)
        while not self.done:
            try:
                line = self._read()
            except KeyboardInterrupt:
                continue
            except EOFError:
                break
            if line is None:
                break
            self.submit(line)
        return 0

    def submit(self, line: str) -> None:
        text = line.strip()
        if not text:
            return
        try:
            if _is_command(text):
                self.commands.run(text)
            elif text.startswith("!"):
                self.shell(text[1:].strip())
            else:
                self.send(line)
        except KeyboardInterrupt:
            self.console.print("Interrupted.", style="yellow")
        if self.terminal:
            self.console.print()

    def send(self, text: str) -> None:
        """Sends a message to the agent and shows the run until it ends."""
        from glmcode.agent.drive import drive
        from glmcode.text import count
        from glmcode.ui.tui.mentions import expand_mentions, policy_check

        self.approver.view = None  # a question about a mention comes before the turn's view
        if self.ws.mcp is not None:
            from glmcode.ui.tui.mcp_commands import attach_resources

            text = attach_resources(self, text)
        expanded = expand_mentions(text.strip("\n"), self.cwd, policy_check(self.agent.runner.policy, self.approver))
        for item in expanded.attached:
            what = count(item.lines, "entry", "entries") if item.folder else count(item.lines, "line")
            cut = ", cut to fit" if item.truncated else ""
            self.console.print(f"  attached @{item.shown} ({what}{cut})", style="dim", markup=False)
        for problem in expanded.problems:
            self.console.print(f"  {problem}", style="yellow", markup=False)
        attached = self._images(expanded.images)
        if attached is False:
            return
        message = expanded.message
        if self.recent.shell_notes:
            message = "\n\n".join([*self.recent.shell_notes, message])
            self.recent.shell_notes.clear()
        from glmcode.ui.tui.notify import Notifier

        view = self._view()
        self.approver.view = view
        notifier = Notifier(self.settings.notify if self.terminal else "off", self.console.file)
        view.begin()
        try:
            with self._quiet():
                run = self.agent.run(message) if attached is None else attached.run(self.agent, message)
                drive(run, notifier.watching(view.handle))
            notifier.run_ended()
        finally:
            with _sigint_ignored():
                view.end()

    def _images(self, found: tuple[tuple[str, Path], ...]) -> Attached | None | bool:
        """The prompt's images, read and shown as chips; False (and why, shown) when one cannot
        be sent, so that nothing is."""
        if not found:
            return None
        from glmcode.images.attach import attach
        from glmcode.images.load import ImageError

        try:
            attached = attach([path for _, path in found], self.ws.settings, names=[shown for shown, _ in found])
        except ImageError as exc:
            self.console.print(f"  {exc}; nothing was sent", style="red", markup=False)
            return False
        for image in attached.images:
            how = f", scaled down from {image.scaled_from[0]}x{image.scaled_from[1]}" if image.scaled_from else ""
            self.console.print(f"  attached {image.label()}{how}", style="dim", markup=False)
        return attached

    def shell(self, command: str) -> None:
        from glmcode.agent.setup import settle_checkpoints
        from glmcode.ui.tui.shell_escape import run_command

        settle_checkpoints(self.ws)  # the command's changes are the user's, not the last run's
        if not command:
            self.console.print("Type a command after !, for example !git status", style="yellow")
            return
        if self.terminal:
            from rich.text import Text

            def show(line: str) -> None:
                self.console.print(Text.from_ansi(line), soft_wrap=True)
        else:

            def show(line: str) -> None:
                self.console.print(line, markup=False, soft_wrap=True)

        result = run_command(command, self.cwd, show)
        how = "interrupted" if result.exit_code is None else f"exit {result.exit_code}"
        self.console.print(f"  {how} · the model sees this with your next message", style="dim", markup=False)
        self.recent.shell_notes.append(result.note())

    def toolbar(self) -> list[tuple[str, str]]:
        fields = self.status.fields()
        out: list[tuple[str, str]] = [("class:bottom-toolbar.text", " ")]
        for n, (name, text) in enumerate(fields):
            if n:
                out.append(("class:bottom-toolbar.text", " · "))
            if name == "mode":
                out.append(("class:toolbar.mode", text))
                out.append(("class:bottom-toolbar.text", " (shift-tab)"))
            else:
                out.append(("class:bottom-toolbar.text", text))
        return out

    def _view(self) -> Any:
        if self.terminal:
            from glmcode.ui.tui.turn_view import TurnView

            return TurnView(self.console, self.status, self.recent, messages=len(self.agent.messages))
        from glmcode.ui.tui.plain_view import PlainView

        return PlainView(self.console, self.status, self.recent, messages=len(self.agent.messages))

    def _quiet(self) -> Any:
        if not self.terminal:
            return nullcontext()
        from glmcode.ui.tui.terminal import quiet_input

        return quiet_input(sys.stdin)

    def _prompt_reader(self) -> Callable[[], str | None]:
        from glmcode.paths import project_key, state_dir
        from glmcode.ui.tui.input import PromptInput

        reader = PromptInput(
            history_file=state_dir() / "history" / f"{project_key(self.settings.project_root)}.txt",
            cwd=self.cwd,
            commands=self.commands.hints,
            toolbar=self.toolbar,
            cycle_mode=self.cycle_mode,
            resources=self._resource_mentions,
        )
        return reader.read

    def _resource_mentions(self) -> list[tuple[str, str]]:
        if self.ws.mcp is None:
            return []
        from glmcode.ui.tui.mcp_commands import resource_mentions

        return resource_mentions(self)

    def _header(self) -> None:
        from glmcode import __version__

        home = str(Path.home())
        where = str(self.cwd)
        if where == home or where.startswith(home + os.sep):
            where = "~" + where[len(home):]
        self.console.print(f"glmcode {__version__} · {self.settings.model} · {self.mode} mode · {where}", style="bold", markup=False)
        if self.terminal:
            self.console.print(
                "/help for commands and keys · Enter sends · Alt-Enter new line · Shift-Tab mode · Ctrl-C stops",
                style="dim", markup=False,
            )
        self.console.print()


def _is_command(text: str) -> bool:
    """`/help` is a command; `/usr/lib is missing` is a message that starts with a path."""
    if not text.startswith("/"):
        return False
    word = text[1:].split(None, 1)[0] if len(text) > 1 else ""
    return "/" not in word


@contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Tidying the screen after a run must finish even if Ctrl-C is pressed again."""
    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
