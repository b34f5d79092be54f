"""Sub-agents on screen: each `task` call is one block. While it runs, the block shows the
agent, what it does, its time and tokens and its latest tool calls; when it ends, it folds
into its header and a short list of the calls (`/last` shows its report whole)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from glmcode.events import SubagentEvent, ToolCallFinished, ToolCallStarted, Usage
from glmcode.ui.tui import tool_view
from glmcode.ui.tui.status import elapsed, tokens

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.text import Text

LIVE_CALLS = 3  # the latest calls a running block shows
FOLDED_CALLS = 5  # the calls a finished block keeps
DEFAULT_AGENT = "explore"


@dataclass
class _Call:
    name: str
    target: str
    ok: bool | None = None  # None while it runs


@dataclass
class Block:
    agent: str
    description: str
    started: float = field(default_factory=time.monotonic)
    calls: dict[str, _Call] = field(default_factory=dict)
    tokens: int = 0


class SubagentBlocks:
    def __init__(self) -> None:
        self.blocks: dict[str, Block] = {}

    def start(self, call_id: str, args: Any) -> None:
        args = args if isinstance(args, Mapping) else {}
        self.blocks[call_id] = Block(str(args.get("agent") or DEFAULT_AGENT), str(args.get("description") or ""))

    def handle(self, event: SubagentEvent) -> None:
        block = self.blocks.get(event.parent_id)
        if block is None:
            return
        inner = event.event
        if isinstance(inner, ToolCallStarted):
            block.calls[inner.id] = _Call(inner.name, tool_view.target(inner.name, inner.arguments))
        elif isinstance(inner, ToolCallFinished) and inner.id in block.calls:
            block.calls[inner.id].ok = not inner.is_error
        elif isinstance(inner, Usage):
            block.tokens += inner.prompt_tokens + inner.completion_tokens

    def running(self, call_id: str, mark: str, now: float | None = None) -> RenderableType:
        from rich.console import Group

        block = self.blocks[call_id]
        now = time.monotonic() if now is None else now
        head = _header(block, now - block.started, mark, "cyan")
        calls = list(block.calls.values())
        return Group(head, *(_call_line(c) for c in calls[-LIVE_CALLS:]))

    def finished(self, event: ToolCallFinished) -> RenderableType:
        from rich.console import Group
        from rich.text import Text

        block = self.blocks.pop(event.id)
        mark, style = ("✗", "red") if event.is_error else ("●", "green")
        head = _header(block, event.duration, mark, style)
        calls = list(block.calls.values())
        parts: list[Any] = [head, *(_call_line(c) for c in calls[:FOLDED_CALLS])]
        if len(calls) > FOLDED_CALLS:
            parts.append(Text(f"  ⎿ … {len(calls) - FOLDED_CALLS} more", style="dim"))
        first = event.output.strip().splitlines()
        if first:
            parts.append(Text(f"  {'✗' if event.is_error else '→'} {_short(first[0])}  · /last shows it all",
                              style="red" if event.is_error else "dim"))
        return Group(*parts)


def _header(block: Block, seconds: float, mark: str, style: str) -> Text:
    from rich.text import Text

    line = Text(f"{mark} ", style=style)
    line.append(f"task {block.agent}", style="bold")
    if block.description:
        line.append(f"  {block.description}")
    n = len(block.calls)
    line.append(f"  {n} tool call{'s' if n != 1 else ''} · {elapsed(seconds)} · {tokens(block.tokens)} tokens", style="dim")
    return line


def _short(text: str, limit: int = 100) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _call_line(call: _Call) -> Text:
    from rich.text import Text

    mark, style = {None: ("◦", "cyan"), True: ("●", "green"), False: ("✗", "red")}[call.ok]
    line = Text("  ⎿ ", style="dim")
    line.append(f"{mark} ", style=style)
    line.append(call.name)
    if call.target:
        line.append(f"  {call.target}", style="dim")
    return line
