"""Asking the user before a call runs: the diff of an edit, the command of a shell call, and
four answers. `y` runs it; `n` refuses and asks why, and the reason goes to the model; `a`
allows the tool for the rest of the session; `p` allows the suggested rule (for a shell call,
the command's program and subcommand) for the session and saves it to the project's
`.glmcode/config.toml`. A web_fetch call also offers `d`: always this domain, for the session.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from glmcode.agent.tool_calls import ApprovalAnswer, ApprovalRequest
from glmcode.ui.tui import tool_view

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

PREVIEW_LINES = 60
CHOICES = {"y": "yes", "n": "no", "a": "always", "p": "always_rule"}
DISMISS = "dismiss"  # Esc: no, without asking why
# The suggested rule for this session only; the agent hears "always_rule", nothing is saved.
DOMAIN = "always_domain"
WEB_CHOICES = {"y": "yes", "n": "no", "d": DOMAIN, "a": "always", "p": "always_rule"}


def question(request: ApprovalRequest) -> RenderableType:
    """What the user sees before answering: the call, why it asks, and what it would do."""
    from rich.console import Group
    from rich.text import Text

    head = Text()
    head.append("? ", style="bold yellow")
    head.append(request.tool, style="bold")
    shown = tool_view.target(request.tool, request.args)
    if shown and request.kind != "shell":
        head.append(f"  {shown}")
    if request.reason:
        head.append(f"  ({request.reason})", style="dim")
    parts: list[Any] = [head]
    if request.kind == "shell":
        command = Text("  $ ", style="dim")
        command.append(request.preview or str(request.args.get("command", "")), style="bold")
        description = request.args.get("description")
        if isinstance(description, str) and description.strip():
            parts.append(Text(f"  {description.strip()}", style="dim"))
        parts.append(command)
    elif request.preview.startswith(("---", "diff ", "@@")) or "\n@@ " in request.preview:
        parts.append(tool_view.diff_view(request.preview, PREVIEW_LINES, indent="  "))
    elif request.preview:
        lines = request.preview.splitlines()
        body = "\n".join(f"  {line}" for line in lines[:PREVIEW_LINES])
        if len(lines) > PREVIEW_LINES:
            body += f"\n  … {len(lines) - PREVIEW_LINES} more lines"
        parts.append(Text(body, style="dim"))
    return Group(*parts)


def choices(request: ApprovalRequest) -> dict[str, str]:
    """The answer keys this request offers: no project rule when no rule could allow it."""
    if request.once:
        return {k: v for k, v in CHOICES.items() if v in ("yes", "no")}
    offered = WEB_CHOICES if request.kind == "web" else CHOICES
    if request.suggested_rule is None:
        return {k: v for k, v in offered.items() if v not in ("always_rule", DOMAIN)}
    return offered


def choice_text(request: ApprovalRequest) -> list[tuple[str, str]]:
    rule = request.suggested_rule
    text = [("class:key", "y"), ("", " yes  "), ("class:key", "n"), ("", " no  ")]
    if request.once:
        return text + [("class:dim", "› ")]
    if rule is not None and request.kind == "web":
        text += [("class:key", "d"), ("", " always this domain  ")]
    text += [("class:key", "a"), ("", f" always {request.tool} this session  ")]
    if rule is not None:
        text += [("class:key", "p"), ("", f" always {_rule_words(request)} in this project ")]
    return text + [("class:dim", "› ")]


def _rule_words(request: ApprovalRequest) -> str:
    """The suggested rule as the user reads it: an MCP server's rule names the server."""
    rule = request.suggested_rule or ""
    if request.kind == "mcp" and rule.endswith("__*"):
        return f"every {rule[5:-3]} tool"
    return rule


class PausingApprover:
    """Takes the screen from the running view while a question is asked, and gives it back
    after, so the call that was allowed shows as running."""

    def __init__(self, ask: Callable[[ApprovalRequest], ApprovalAnswer]) -> None:
        self.ask = ask
        self.view: Any = None

    def __call__(self, request: ApprovalRequest) -> ApprovalAnswer:
        view = self.view
        if view is not None:
            view.pause()
        try:
            return self.ask(request)
        finally:
            if view is not None:
                view.resume()


class TerminalApprover:
    """Answers approval requests at the terminal with single keys (prompt-toolkit)."""

    def __init__(self, console: Console, save_rule: Callable[[str], str]) -> None:
        self.console = console
        self.save_rule = save_rule

    def __call__(self, request: ApprovalRequest) -> ApprovalAnswer:
        self.console.print()
        self.console.print(question(request))
        _drop_typed_ahead()
        decision = self._choose(request)
        if decision == DISMISS:
            self.console.print("  → no", style="dim", highlight=False, markup=False)
            return ApprovalAnswer("no")
        self.console.print(f"  → {_said(decision, request)}", style="dim", highlight=False, markup=False)
        if decision == "no":
            reason = self._reason()
            return ApprovalAnswer("no", reason)
        if decision == "always_rule":
            self.console.print(f"  {self.save_rule(request.suggested_rule)}", style="dim", highlight=False, markup=False)
        return ApprovalAnswer("always_rule" if decision == DOMAIN else decision)

    def _choose(self, request: ApprovalRequest) -> str:
        from prompt_toolkit import PromptSession
        from prompt_toolkit.key_binding import KeyBindings
        from prompt_toolkit.styles import Style

        keys = KeyBindings()

        @keys.add("<any>")
        @keys.add("enter")
        def _ignore(event: Any) -> None:
            """Only the answer keys answer: a stray key must not approve anything."""

        for key, decision in choices(request).items():
            keys.add(key)(_exit_with(decision))
            keys.add(key.upper())(_exit_with(decision))
        keys.add("escape", eager=True)(_exit_with(DISMISS))

        @keys.add("c-c")
        def _stop(event: Any) -> None:
            event.app.exit(exception=KeyboardInterrupt())

        session: Any = PromptSession(
            choice_text(request),
            key_bindings=keys,
            style=Style.from_dict({"key": "bold #ffaf00", "dim": "#8a8a8a"}),
        )
        return str(session.prompt())

    def _reason(self) -> str:
        from prompt_toolkit import PromptSession

        session: Any = PromptSession("  Why not? (told to the model; Enter to skip) › ")
        try:
            return str(session.prompt()).strip()
        except EOFError:
            return ""


def _drop_typed_ahead() -> None:
    """Keys typed while the agent worked must not answer a question they were not meant for."""
    try:
        import termios
    except ImportError:  # not a POSIX terminal
        return
    try:
        termios.tcflush(sys.stdin.fileno(), termios.TCIFLUSH)
    except (termios.error, OSError, ValueError):
        return


def _exit_with(decision: str) -> Callable[[Any], None]:
    def handler(event: Any) -> None:
        event.app.exit(result=decision)

    return handler


def _said(decision: str, request: ApprovalRequest) -> str:
    if decision == "always":
        return f"yes, and {request.tool} runs without asking for the rest of this session"
    if decision == "always_rule":
        return f"yes, and {request.suggested_rule} runs without asking from now on"
    if decision == DOMAIN:
        return f"yes, and {request.suggested_rule} runs without asking for the rest of this session"
    return decision


class LineApprover:
    """Answers approval requests from lines of text, for a session without a terminal."""

    def __init__(self, console: Console, read_line: Callable[[str], str | None], save_rule: Callable[[str], str]) -> None:
        self.console = console
        self.read_line = read_line
        self.save_rule = save_rule

    def __call__(self, request: ApprovalRequest) -> ApprovalAnswer:
        self.console.print(question(request))
        while True:
            project = f" [p] always {_rule_words(request)}" if request.suggested_rule else ""
            domain = " [d] always this domain" if request.suggested_rule and request.kind == "web" else ""
            always = "" if request.once else f"{domain} [a]lways {request.tool}{project}"
            line = self.read_line(f"Allow? [y]es [n]o{always}: ")
            if line is None:
                return ApprovalAnswer("no", "")
            decision = choices(request).get(line.strip()[:1].lower())
            if decision is not None:
                break
        if decision == "no":
            reason = line.strip()[1:].strip(" :,-") or (self.read_line("Why not? ") or "").strip()
            return ApprovalAnswer("no", reason)
        if decision == "always_rule":
            self.console.print(self.save_rule(request.suggested_rule), highlight=False, markup=False)
        return ApprovalAnswer("always_rule" if decision == DOMAIN else decision)


def rule_saver(project_root: Path, env: Mapping[str, str]) -> Callable[[str], str]:
    """Saves a rule to the project's config and says what came of it."""

    def save(rule: str) -> str:
        from glmcode.config.errors import ConfigError
        from glmcode.config.trust import is_trusted
        from glmcode.paths import project_config_file
        from glmcode.ui.tui.allow_rules import RuleFileError, save_allow_rule

        path = project_config_file(project_root)
        try:
            added = save_allow_rule(path, rule)
        except (RuleFileError, OSError) as exc:
            return f"not saved: {exc}"
        shown = _relative(path, project_root)
        said = f"saved {rule} to {shown}" if added else f"{rule} is already allowed in {shown}"
        try:
            trusted = is_trusted(project_root, env)
        except ConfigError:
            trusted = False
        if not trusted:
            said += " (later sessions use it once you run `glmcode trust` in this project)"
        return said

    return save


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)
