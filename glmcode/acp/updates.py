"""glmcode's events as ACP session updates: answer and reasoning chunks, tool calls with their
kind, title, locations and outcome, the diffs of edits and the plan of `todo_write`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from acp import schema

from glmcode.events import ToolCallFinished, ToolCallStarted
from glmcode.permissions.targets import call_paths
from glmcode.tools.base import ToolContext, ToolError
from glmcode.tools.files import editor_text, read_bytes

# glmcode's kinds of tool, as ACP names them; search tools are told apart by name.
KINDS = {"read": "read", "edit": "edit", "shell": "execute", "meta": "think"}
SEARCH_TOOLS = frozenset({"grep", "glob"})
# Tool output shown in the editor; the whole of it is in the session file.
OUTPUT_CHARS = 20_000
# Files larger than this show as the unified diff, not as the editor's side-by-side view.
DIFF_FILE_BYTES = 2_000_000
_FENCE = re.compile(r"`{3,}")


def message_chunk(text: str) -> schema.AgentMessageChunk:
    return schema.AgentMessageChunk(session_update="agent_message_chunk", content=text_block(text))


def thought_chunk(text: str) -> schema.AgentThoughtChunk:
    return schema.AgentThoughtChunk(session_update="agent_thought_chunk", content=text_block(text))


def user_chunk(text: str) -> schema.UserMessageChunk:
    return schema.UserMessageChunk(session_update="user_message_chunk", content=text_block(text))


def text_block(text: str) -> schema.TextContentBlock:
    return schema.TextContentBlock(type="text", text=text)


def acp_kind(name: str, kind: str | None) -> str:
    if name in SEARCH_TOOLS:
        return "search"
    return KINDS.get(kind or "", "other")


def title(name: str, args: Any) -> str:
    """What the call does, in a few words, as the editor lists it."""
    if not isinstance(args, Mapping):
        return name
    paths = call_paths(name, args)
    if name == "run_shell" and isinstance(args.get("command"), str):
        return f"Run `{_one_line(args['command'])}`"
    if name == "read_file" and paths:
        return f"Read {paths[0]}"
    if name == "write_file" and paths:
        return f"Write {paths[0]}"
    if name == "edit_file" and paths:
        return f"Edit {paths[0]}"
    if name == "apply_patch" and paths:
        return f"Patch {', '.join(paths)}"
    if name in SEARCH_TOOLS and isinstance(args.get("pattern"), str):
        where = f" in {args['path']}" if isinstance(args.get("path"), str) and args["path"] else ""
        return f"{'Search' if name == 'grep' else 'Find'} `{_one_line(args['pattern'])}`{where}"
    if name == "todo_write":
        return "Update the plan"
    return name


def locations(name: str, args: Any, ctx: ToolContext) -> list[schema.ToolCallLocation]:
    if not isinstance(args, Mapping):
        return []
    line = args.get("offset") if name == "read_file" and isinstance(args.get("offset"), int) else None
    found = []
    for raw in call_paths(name, args):
        try:
            found.append(schema.ToolCallLocation(path=str(ctx.resolve(raw)), line=line))
        except ToolError:
            continue
    return found


def started(event: ToolCallStarted, kind: str | None, ctx: ToolContext) -> schema.ToolCallStart:
    return schema.ToolCallStart(
        session_update="tool_call",
        tool_call_id=event.id,
        title=title(event.name, event.arguments),
        kind=acp_kind(event.name, kind),  # type: ignore[arg-type]
        status="in_progress",
        locations=locations(event.name, event.arguments, ctx),
        raw_input=event.arguments,
    )


def finished(
    event: ToolCallFinished, before: Mapping[Path, str | None], ctx: ToolContext
) -> schema.ToolCallProgress:
    """The call's outcome; an edit that went through shows each file's change as a diff."""
    content: list[Any] = []
    terminal = (event.data or {}).get("terminal_id")
    if isinstance(terminal, str):  # the command ran in the editor's terminal, which shows its output
        content = [schema.TerminalToolCallContent(type="terminal", terminal_id=terminal)]
    elif not event.is_error and before:
        content = edit_diffs(before, ctx)
    if not content and event.diff:
        content.append(_content(fenced(event.diff, "diff")))
    output = event.output if len(event.output) <= OUTPUT_CHARS else event.output[:OUTPUT_CHARS] + "\n…"
    if output.strip() and (event.is_error or not content) and not isinstance(terminal, str):
        content.append(_content(fenced(output) if event.name == "run_shell" or not event.is_error else output))
    return schema.ToolCallProgress(
        session_update="tool_call_update",
        tool_call_id=event.id,
        status="failed" if event.is_error else "completed",
        content=content or None,
        raw_output=event.data if event.data is not None else {"output": output},
    )


def plan(data: Mapping[str, Any] | None) -> schema.AgentPlanUpdate | None:
    todos = (data or {}).get("todos")
    if not isinstance(todos, list):
        return None
    entries = [
        schema.PlanEntry(content=str(t.get("content", "")), priority="medium", status=t.get("status", "pending"))
        for t in todos
        if isinstance(t, Mapping)
    ]
    return schema.AgentPlanUpdate(session_update="plan", entries=entries)


def edit_targets(name: str, args: Any, ctx: ToolContext) -> dict[Path, str | None]:
    """The text of each file an edit call names, as it is before the call (None: missing,
    or not a text file the editor can show)."""
    out: dict[Path, str | None] = {}
    if not isinstance(args, Mapping):
        return out
    for raw in call_paths(name, args):
        try:
            path = ctx.resolve(raw)
        except ToolError:
            continue
        out[path] = file_text(path, ctx)
    return out


def file_text(path: Path, ctx: ToolContext) -> str | None:
    try:
        if not path.is_file() or path.stat().st_size > DIFF_FILE_BYTES:
            return None
        return editor_text(read_bytes(path, ctx), path)
    except (OSError, ToolError):
        return None


def edit_diffs(before: Mapping[Path, str | None], ctx: ToolContext) -> list[Any]:
    diffs: list[Any] = []
    for path, old in before.items():
        new = file_text(path, ctx)
        if new == old:
            continue
        diffs.append(schema.FileEditToolCallContent(type="diff", path=str(path), old_text=old, new_text=new or ""))
    return diffs


def fenced(text: str, language: str = "") -> str:
    """Text in a Markdown code block whose fence no line of it can close."""
    longest = max((len(m) for m in _FENCE.findall(text)), default=2)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text.rstrip()}\n{fence}"


def _content(text: str) -> schema.ContentToolCallContent:
    return schema.ContentToolCallContent(type="content", content=text_block(text))


def _one_line(text: str, limit: int = 80) -> str:
    lines = text.strip().splitlines()
    first = lines[0] if lines else ""
    if len(lines) > 1:
        first += " …"
    return first if len(first) <= limit else first[: limit - 1] + "…"
