"""One run as plain text, for a session whose output is not a terminal: the answer as it
streams (Markdown source, no escape codes), tool calls as compact lines, the status at the end."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from glmcode.events import (
    Compacted,
    Error,
    Event,
    ImagesDescribed,
    Notice,
    ReasoningDelta,
    Retrying,
    RunFinished,
    SubagentEvent,
    TextDelta,
    ToolCallFinished,
    ToolCallStarted,
    TurnFinished,
    Usage,
)
from glmcode.ui.described import described_text
from glmcode.ui.tui import tool_view
from glmcode.ui.tui.compaction_view import CompactionView
from glmcode.ui.tui.recent import Recent
from glmcode.ui.tui.status import SessionStatus
from glmcode.ui.tui.subagent_view import SubagentBlocks

if TYPE_CHECKING:
    from rich.console import Console


class PlainView:
    def __init__(self, console: Console, status: SessionStatus, recent: Recent, *, messages: int = 1) -> None:
        """`messages`: how long the conversation is when the run begins."""
        self.console = console
        self.status = status
        self.recent = recent
        self.compactions = CompactionView(messages)
        self._reasoning: list[str] = []
        self._args: dict[str, Any] = {}
        self._line_open = False
        self.subagents = SubagentBlocks()

    def begin(self) -> None:
        self.recent.new_run()

    def pause(self) -> None:
        self._close_line()

    def resume(self) -> None:
        """Nothing to take back: plain output has no live area."""

    def end(self) -> None:
        self._end_reasoning()
        self._close_line()
        self.console.print(f"[{self.status.line()}]", markup=False, highlight=False)

    def handle(self, event: Event) -> None:
        if self.compactions.repeats(event):
            return
        if isinstance(event, ReasoningDelta):
            self._reasoning.append(event.text)
        elif isinstance(event, TextDelta):
            self._end_reasoning()
            if not self._line_open and not event.text.strip():
                return
            self.console.file.write(event.text)
            self.console.file.flush()
            self._line_open = not event.text.endswith("\n")
        elif isinstance(event, ToolCallStarted):
            self._end_reasoning()
            self._close_line()
            self._args[event.id] = event.arguments
            if event.name == "task":
                self.subagents.start(event.id, event.arguments)
        elif isinstance(event, SubagentEvent):
            self.subagents.handle(event)
            if isinstance(event.event, Usage):
                self.status.add_nested(event.event)
        elif isinstance(event, ToolCallFinished):
            self.status.tool_finished(event)
            args = self._args.pop(event.id, {})
            self.recent.add_tool(event.name, tool_view.target(event.name, args), event.output, event.is_error, event.diff)
            if event.id in self.subagents.blocks:
                self.console.print(self.subagents.finished(event))
            else:
                self.console.print(tool_view.finished(event, args))
        elif isinstance(event, TurnFinished):
            self._end_reasoning()
            self._close_line()
        elif isinstance(event, Usage):
            self.status.add(event)
        elif isinstance(event, Retrying):
            self._reasoning = []
            self._say(f"{event.reason}; retrying in {event.wait:.1f}s ({event.attempt}/{event.max_attempts})")
        elif isinstance(event, Compacted):
            self.status.compacted(event)
            self._say(self.compactions.line(event))
        elif isinstance(event, Notice):
            self._say(event.message)
        elif isinstance(event, ImagesDescribed):
            self._say(described_text(event))
        elif isinstance(event, Error):
            self._say(f"error: {event.message}" + (f"\n{event.hint}" if event.hint else ""))
        elif isinstance(event, RunFinished):
            if event.status == "interrupted":
                self._say("interrupted")

    def _end_reasoning(self) -> None:
        text = "".join(self._reasoning).strip()
        self._reasoning = []
        if text:
            self.recent.reasoning.append(text)

    def _close_line(self) -> None:
        if self._line_open:
            self.console.file.write("\n")
            self._line_open = False

    def _say(self, text: str) -> None:
        self._close_line()
        self.console.print(text, markup=False, highlight=False)
