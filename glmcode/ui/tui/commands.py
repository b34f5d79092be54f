"""Slash commands. Each is one `cmd_<name>` method: its docstring's first line is its help,
its parameter (if any) the argument it takes; adding a method adds the command."""

from __future__ import annotations

import difflib
import inspect
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from glmcode.ui.tui.input import CommandHint

if TYPE_CHECKING:
    from glmcode.ui.tui.host import SessionHost

PREFIX = "cmd_"
INIT_PROMPT = Path(__file__).with_name("init_prompt.md")
KEYS = (
    ("Enter", "send"),
    ("Alt-Enter, Ctrl-J", "new line"),
    ("Tab", "complete a /command or an @path"),
    ("Up, Down / Ctrl-R", "history of this project / search it"),
    ("Shift-Tab", "next permission mode"),
    ("Ctrl-C", "stop the running turn; clear the prompt; twice on an empty prompt: exit"),
    ("Ctrl-D", "exit (on an empty prompt)"),
    ("!command", "run a shell command; the model sees its output with your next prompt"),
    ("@path", "attach a file (or a folder's listing) to the message"),
)


class SlashCommands:
    def __init__(self, session: SessionHost) -> None:
        self.session = session

    def hints(self) -> list[CommandHint]:
        out = []
        for name in self.names():
            method = getattr(self, PREFIX + name)
            out.append(CommandHint(name, _usage(name, method), _summary(method)))
        if self.session.ws.mcp is not None:
            from glmcode.ui.tui.mcp_commands import prompt_hints

            out.extend(prompt_hints(self.session))
        from glmcode.ui.tui import custom_commands

        return out + custom_commands.hints(custom_commands.load(self.session, self.names()))

    def names(self) -> list[str]:
        return builtin_names()

    def run(self, line: str) -> None:
        """Runs `/name argument`."""
        name, _, argument = line[1:].strip().partition(" ")
        if name.startswith("mcp__"):
            from glmcode.ui.tui.mcp_commands import run_prompt

            run_prompt(self.session, name, argument)
            return
        method: Callable[..., None] | None = getattr(self, PREFIX + name.lower(), None) if name else None
        console = self.session.console
        if method is None:
            from glmcode.ui.tui import custom_commands

            custom = custom_commands.load(self.session, self.names())
            command = custom.get(name) if name else None
            if command is not None:
                custom_commands.run(self.session, command, argument)
                return
            close = closest(name.lower(), self.names() + list(custom.commands))
            hint = f" Did you mean /{close}?" if close else ""
            console.print(f"Unknown command /{name}.{hint} /help lists the commands.", style="yellow", markup=False, highlight=False)
            return
        if _takes_argument(method):
            method(argument.strip())
        elif argument.strip():
            console.print(f"/{name} takes no argument.", style="yellow", markup=False, highlight=False)
        else:
            method()

    # -- the commands -------------------------------------------------------------------------

    def cmd_help(self) -> None:
        """List the commands and keys."""
        from rich.table import Table

        table = Table.grid(padding=(0, 3))
        table.add_column(style="bold")
        table.add_column()
        for hint in self.hints():
            table.add_row(hint.usage, hint.summary)
        keys = Table.grid(padding=(0, 3))
        keys.add_column(style="bold")
        keys.add_column()
        for key, what in KEYS:
            keys.add_row(key, what)
        console = self.session.console
        console.print("Commands", style="bold underline")
        console.print(table)
        console.print()
        console.print("Keys", style="bold underline")
        console.print(keys)
        from glmcode.ui.tui import custom_commands

        custom_commands.show_help(self.session, custom_commands.load(self.session, self.names()))

    def cmd_agents(self) -> None:
        """List the agents the model can hand work to (task), and where they come from."""
        from glmcode.ui.tui.agents_command import show_agents

        show_agents(self.session)

    def cmd_clear(self) -> None:
        """Start a new conversation; the model forgets this one."""
        self.session.clear()
        self.session.console.print("New conversation. The model no longer sees what came before.", style="dim")

    def cmd_model(self, name: str = "") -> None:
        """Show the model, or switch to another one."""
        from glmcode.llm.catalog import get_model, is_known_model, known_models

        console = self.session.console
        if not name:
            known = ", ".join(m.name for m in known_models())
            console.print(f"Model: {self.session.settings.model}. Known models: {known}.", markup=False, highlight=False)
            return
        self.session.set_model(name)
        info = get_model(name)
        note = "" if is_known_model(name) else " (not in glmcode's catalog: 128K context assumed, no price)"
        console.print(f"Model: {name}, context window {info.context_window:,} tokens{note}.", style="dim", markup=False, highlight=False)

    def cmd_mode(self, name: str = "") -> None:
        """Show the permission mode, or switch to another one."""
        from glmcode.ui.tui.host import MODE_CYCLE as MODES

        console = self.session.console
        if not name:
            console.print(
                f"Mode: {self.session.mode}. Modes: {', '.join(MODES)} (Shift-Tab cycles them).",
                markup=False, highlight=False,
            )
            return
        if name not in MODES:
            close = difflib.get_close_matches(name, MODES, n=1, cutoff=0.4)
            hint = f" Did you mean {close[0]}?" if close else ""
            console.print(f"No mode {name}.{hint} Modes: {', '.join(MODES)}.", style="yellow", markup=False, highlight=False)
            return
        self.session.set_mode(name)
        console.print(f"Mode: {name}.", style="dim", markup=False, highlight=False)

    def cmd_cost(self) -> None:
        """Tokens, cache hits and cost of this session."""
        from rich.table import Table

        from glmcode.llm.catalog import get_model
        from glmcode.ui.tui.status import money

        status = self.session.status
        info = get_model(status.model)
        table = Table.grid(padding=(0, 3))
        table.add_column()
        table.add_column(justify="right")
        table.add_row("requests", f"{status.requests:,}")
        table.add_row("input tokens", f"{status.prompt_tokens:,}")
        table.add_row("  from the cache", f"{status.cached_tokens:,} ({status.cached_percent:.0f}%)")
        table.add_row("output tokens", f"{status.completion_tokens:,}")
        if status.web_searches or status.tool_cost_usd:
            table.add_row("web searches", f"{status.web_searches:,}")
            table.add_row("  web tools' cost", money(status.tool_cost_usd))
        table.add_row("cost", money(status.cost_usd))
        self.session.console.print(table)
        self.session.console.print(
            f"{info.name}: ${info.price_input:g} per million input tokens, ${info.price_cached_input:g} cached, "
            f"${info.price_output:g} output",
            style="dim", markup=False, highlight=False,
        )

    def cmd_context(self) -> None:
        """What fills the model's context window."""
        from rich.table import Table

        from glmcode.ui.tui.status import tokens

        agent = self.session.agent
        rows = context_parts(agent.messages, agent.runner.registry.schemas())
        total = sum(chars for _, _, chars in rows) or 1
        table = Table(box=None, padding=(0, 2), show_edge=False)
        table.add_column("part")
        table.add_column("count", justify="right")
        table.add_column("characters", justify="right")
        table.add_column("≈ tokens", justify="right")
        table.add_column("share", justify="right")
        for part, count, chars in rows:
            table.add_row(part, str(count), f"{chars:,}", tokens(chars // 4), f"{100 * chars / total:.0f}%")
        console = self.session.console
        console.print(table)
        status = self.session.status
        if status.last_prompt_tokens:
            console.print(
                f"The last request used {status.last_prompt_tokens:,} of {status.context_window:,} tokens "
                f"({status.context_percent:.1f}%).",
                style="dim", markup=False, highlight=False,
            )
        else:
            console.print(f"The window holds {status.context_window:,} tokens; nothing was sent yet.", style="dim")

    def cmd_diff(self) -> None:
        """The diffs of the edits made in this session, and `git diff`."""
        from glmcode.ui.tui.diff_command import show_diff

        show_diff(self.session)

    def cmd_init(self) -> None:
        """Ask the agent to write an AGENTS.md for this repository."""
        self.session.send(INIT_PROMPT.read_text(encoding="utf-8").strip())

    def cmd_reasoning(self) -> None:
        """Show the model's last reasoning in full."""
        console = self.session.console
        reasoning = self.session.recent.reasoning
        if not reasoning:
            console.print("No reasoning yet.", style="dim")
            return
        for n, text in enumerate(reasoning, 1):
            if len(reasoning) > 1:
                console.print(f"Reasoning {n} of {len(reasoning)}", style="bold")
            console.print(text, style="dim italic", markup=False, highlight=False)

    def cmd_last(self, n: str = "") -> None:
        """Show the last tool output in full (/last 3: the last three)."""
        from rich.text import Text

        console = self.session.console
        outputs = self.session.recent.outputs
        if not outputs:
            console.print("No tool output yet.", style="dim")
            return
        count = int(n) if n.isdigit() and int(n) > 0 else 1
        for item in outputs[-count:]:
            console.print(Text.assemble(("✗ " if item.is_error else "● ", "red" if item.is_error else "green"), (item.name, "bold"), f"  {item.target}"))
            console.print(item.output, markup=False, highlight=False)

    def cmd_undo(self) -> None:
        """Put back the files the last turn that changed files changed (asks first)."""
        from glmcode.ui.tui.rewind_commands import undo

        undo(self.session)

    def cmd_rewind(self, to: str = "") -> None:
        """Go back to before an earlier prompt: files, conversation or both (/rewind 2 both)."""
        from glmcode.ui.tui.rewind_commands import rewind

        rewind(self.session, to)

    def cmd_resume(self, session_id: str = "") -> None:
        """Continue another session of this project (a number or id; none: pick from a list)."""
        from glmcode.ui.tui.rewind_commands import resume

        resume(self.session, session_id)

    def cmd_compact(self, focus: str = "") -> None:
        """Summarise older turns to free the context window (/compact FOCUS keeps FOCUS)."""
        from glmcode.ui.tui.rewind_commands import compact

        compact(self.session, focus)

    def cmd_hooks(self) -> None:
        """The hooks in force, and the file each comes from."""
        from glmcode.ui.tui.hooks_view import show_hooks

        show_hooks(self.session)

    def cmd_mcp(self, argument: str = "") -> None:
        """MCP servers: state, tools, last error (/mcp NAME: its tools; /mcp restart NAME)."""
        from glmcode.ui.tui.mcp_commands import show

        show(self.session, argument)

    def cmd_exit(self) -> None:
        """Leave glmcode."""
        self.session.done = True


def builtin_names() -> list[str]:
    return sorted(attr[len(PREFIX):] for attr in dir(SlashCommands) if attr.startswith(PREFIX))


def closest(typed: str, names: list[str]) -> str | None:
    """The name `typed` most likely meant: the one a prefix of it, or the fewest edits away
    (a swap of two neighbouring letters counting as one edit)."""
    starting = [n for n in names if typed and n.startswith(typed)]
    if len(starting) == 1:
        return starting[0]
    scored = sorted((_edits(typed, n), abs(len(n) - len(typed)), n) for n in names)
    if not scored:
        return None
    distance, _, best = scored[0]
    return best if distance <= max(1, min(2, len(best) // 3)) else None


def _edits(a: str, b: str) -> int:
    """Optimal string alignment distance."""
    rows = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        rows[i][0] = i
    for j in range(len(b) + 1):
        rows[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            rows[i][j] = min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                rows[i][j] = min(rows[i][j], rows[i - 2][j - 2] + 1)
    return rows[len(a)][len(b)]


def _summary(method: Callable[..., Any]) -> str:
    doc = inspect.getdoc(method) or ""
    return doc.splitlines()[0] if doc else ""


def _takes_argument(method: Callable[..., Any]) -> bool:
    return bool(inspect.signature(method).parameters)


def _usage(name: str, method: Callable[..., Any]) -> str:
    params = list(inspect.signature(method).parameters.values())
    if not params:
        return f"/{name}"
    arg = params[0].name.upper()
    return f"/{name} [{arg}]" if params[0].default is not inspect.Parameter.empty else f"/{name} {arg}"


def context_parts(messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> list[tuple[str, int, int]]:
    """(part, count, characters): the system prompt, the tool schemas, and the messages by role."""
    rows: list[tuple[str, int, int]] = []
    system = [m for m in messages if m.get("role") == "system"]
    rows.append(("system prompt", len(system), sum(_chars(m) for m in system)))
    rows.append(("tool definitions", len(tools), len(json.dumps(tools, ensure_ascii=False))))
    for role, label in (("user", "your messages"), ("assistant", "model replies"), ("tool", "tool results")):
        these = [m for m in messages if m.get("role") == role]
        rows.append((label, len(these), sum(_chars(m) for m in these)))
    return rows


def _chars(message: dict[str, Any]) -> int:
    size = len(str(message.get("content") or ""))
    size += len(str(message.get("reasoning_content") or ""))
    for call in message.get("tool_calls") or []:
        size += len(json.dumps(call, ensure_ascii=False))
    return size
