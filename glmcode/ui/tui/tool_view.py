"""Tool calls on screen: one compact line each, plus what is worth seeing at a glance.

A call shows as `● tool target  result`, red with the first lines of the message when it
failed. An edit adds its diff (capped), a shell command the last lines of its output, the plan
its checklist. Whole outputs stay available through `/last` and `/diff`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from glmcode.events import ToolCallFinished

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.text import Text

DIFF_LINES = 40
SHELL_LINES = 4
ERROR_LINES = 3
TARGET_CHARS = 100
_PATCH_PATH = re.compile(r"^\*\*\* (?:Add|Update|Delete) File: (.+?)\s*$", re.MULTILINE)
_SHELL_TAG = re.compile(r"^</?(stdout|stderr)>$")
TODO_MARKS = {"completed": ("✔", "green"), "in_progress": ("◐", "yellow"), "pending": ("○", "dim")}


def target(name: str, args: Any) -> str:
    """What a call is about, on one line: the command, the path or the pattern."""
    if not isinstance(args, Mapping):
        return _one_line(str(args or ""))
    if name == "apply_patch" and isinstance(args.get("patch"), str):
        return ", ".join(_PATCH_PATH.findall(args["patch"]))
    for key in ("command", "pattern", "path", "url", "query"):
        value = args.get(key)
        if isinstance(value, str) and value:
            shown = _one_line(value)
            if key == "pattern" and isinstance(args.get("path"), str) and args["path"]:
                shown += f"  in {args['path']}"
            return shown
    return ""


def _one_line(text: str, limit: int = TARGET_CHARS) -> str:
    lines = text.strip().splitlines()
    first = lines[0] if lines else ""
    if len(lines) > 1:
        first += " …"
    return first if len(first) <= limit else first[: limit - 1] + "…"


def running_line(name: str, args: Any, seconds: float, mark: str) -> Text:
    from rich.text import Text

    from glmcode.ui.tui.status import elapsed

    line = Text(f"{mark} ", style="cyan")
    line.append(name, style="bold")
    shown = target(name, args)
    if shown:
        line.append(f"  {shown}")
    if seconds >= 1:
        line.append(f"  {elapsed(seconds)}", style="dim")
    return line


def summary(event: ToolCallFinished) -> str:
    """The result in a few words."""
    data = event.data or {}
    output = event.output
    if event.name == "read_file" and "total" in data:
        if not data["total"]:
            return "empty file"
        if data.get("first") == 1 and data.get("last") == data["total"]:
            return f"{data['total']} lines"
        return f"lines {data.get('first')}-{data.get('last')} of {data['total']}"
    if event.name == "run_shell" and "exit_code" in data:
        if data.get("timed_out"):
            head = "timed out"
        elif data["exit_code"] is None:
            head = _one_line(output, 80)
        else:
            head = f"exit {data['exit_code']}"
        count = len(shell_lines(output))
        return f"{head} · {count} line{'s' if count != 1 else ''} of output" if count else head
    if event.name == "grep" and "matches" in data:
        return f"{data['matches']} matches in {data.get('files', 0)} files" if data["matches"] else "no matches"
    if event.name == "glob" and "files" in data:
        return f"{data['files']} files"
    if event.name == "todo_write":
        todos = data.get("todos") or []
        done = sum(t.get("status") == "completed" for t in todos)
        return f"plan: {done}/{len(todos)} done"
    first = output.strip().splitlines()
    text = first[0].rstrip(":") if first else ""
    if event.diff:
        added, removed = diff_stat(event.diff)
        text = f"{text}  +{added} −{removed}" if text else f"+{added} −{removed}"
    return _one_line(text, 160)


def finished(event: ToolCallFinished, args: Any, *, diff_shown: bool = False) -> RenderableType:
    """The call's line and what follows it; `diff_shown` leaves out a diff the user has just
    seen (in the approval question)."""
    from rich.console import Group
    from rich.text import Text

    head = Text()
    head.append("✗ " if event.is_error else "● ", style="red" if event.is_error else "green")
    head.append(event.name, style="bold red" if event.is_error else "bold")
    shown = target(event.name, args)
    if shown:
        head.append(f"  {shown}")
    parts: list[Any] = [head]
    if event.is_error and event.name != "run_shell":
        parts.append(_indented(event.output.strip().splitlines(), ERROR_LINES, "red", "/last"))
        return Group(*parts)
    head.append(f"  {summary(event)}", style="red" if event.is_error else "dim")
    if event.images:
        head.append(f" · {event.images} image{'s' if event.images != 1 else ''} returned", style="dim")
    if event.name == "todo_write" and (event.data or {}).get("todos"):
        parts.append(checklist(event.data["todos"]))  # type: ignore[index]
    elif event.name == "run_shell":
        lines = shell_lines(event.output)
        if lines:
            hidden = len(lines) - SHELL_LINES
            shown_lines = lines[-SHELL_LINES:]
            note = f"  … {hidden} more line{'s' if hidden != 1 else ''} above · /last shows all" if hidden > 0 else ""
            body = Text()
            if note:
                body.append(note + "\n", style="dim")
            for n, line in enumerate(shown_lines):
                body.append(f"  {line}" + ("\n" if n < len(shown_lines) - 1 else ""), style="dim")
            parts.append(body)
    elif event.diff and not diff_shown:
        parts.append(diff_view(event.diff, DIFF_LINES, indent="  "))
    return Group(*parts)


def _indented(lines: list[str], limit: int, style: str, more: str) -> Text:
    from rich.text import Text

    out = Text()
    for line in lines[:limit]:
        out.append(f"  {line}\n", style=style)
    if len(lines) > limit:
        out.append(f"  … {len(lines) - limit} more lines · {more} shows all\n", style="dim")
    out.rstrip()
    return out


def shell_lines(output: str) -> list[str]:
    """The command's own output, without the exit-code note and the stream tags around it."""
    lines = output.rstrip("\n").splitlines()
    out: list[str] = []
    inside = False
    for line in lines:
        if _SHELL_TAG.match(line):
            inside = not line.startswith("</")
            continue
        if inside:
            out.append(line)
    return out


def diff_stat(diff: str) -> tuple[int, int]:
    added = removed = 0
    for line in diff.splitlines():
        if line.startswith("+") and not line.startswith("+++"):
            added += 1
        elif line.startswith("-") and not line.startswith("---"):
            removed += 1
    return added, removed


def diff_view(diff: str, limit: int | None = None, *, indent: str = "") -> Text:
    """A unified diff coloured: additions green, removals red, hunk headers cyan; past `limit`
    lines, a note says how many more there are."""
    from rich.text import Text

    lines = diff.rstrip("\n").splitlines()
    shown = lines if limit is None else lines[:limit]
    out = Text(no_wrap=False)
    for line in shown:
        if line.startswith(("+++", "---")):
            style = "bold"
        elif line.startswith("+"):
            style = "green"
        elif line.startswith("-"):
            style = "red"
        elif line.startswith("@@"):
            style = "cyan"
        else:
            style = "dim"
        out.append(f"{indent}{line}\n", style=style)
    if limit is not None and len(lines) > limit:
        out.append(f"{indent}… {len(lines) - limit} more lines · /diff shows all\n", style="dim")
    out.rstrip()
    return out


def checklist(todos: list[dict[str, Any]]) -> Text:
    from rich.text import Text

    out = Text()
    for n, item in enumerate(todos):
        mark, style = TODO_MARKS.get(str(item.get("status")), ("○", "dim"))
        out.append(f"  {mark} ", style=style)
        text_style = "dim strike" if item.get("status") == "completed" else ("bold" if item.get("status") == "in_progress" else "")
        out.append(str(item.get("content", "")), style=text_style)
        if n < len(todos) - 1:
            out.append("\n")
    return out
