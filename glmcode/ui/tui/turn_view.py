"""One run on screen: what the agent does for a prompt, from its events.

Reasoning streams dimmed as a live tail of a few lines and folds into one line when it ends
(`/reasoning` shows it whole). The answer streams as Markdown: finished blocks go to the
scrollback once, the unfinished tail is redrawn. Tool calls show as compact lines. A status
line sits under it all while the run lasts. Everything that stays is committed through the
live area, which owns the terminal while a run is on screen.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from glmcode.events import (
    ApprovalNeeded,
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
    TurnStarted,
    Usage,
)
from glmcode.ui.described import described_text
from glmcode.ui.tui import tool_view
from glmcode.ui.tui.compaction_view import CompactionView
from glmcode.ui.tui.recent import Recent
from glmcode.ui.tui.status import SessionStatus, elapsed, spinner
from glmcode.ui.tui.subagent_view import SubagentBlocks

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.text import Text

    from glmcode.ui.render import MarkdownStream

REASONING_LINES = 3
_REASONING_CHARS = 4000


class TurnView:
    def __init__(self, console: Console, status: SessionStatus, recent: Recent, *, messages: int = 1) -> None:
        """`messages`: how long the conversation is when the run begins."""
        from glmcode.ui.tui.live import LiveArea

        self.console = console
        self.status = status
        self.recent = recent
        self.compactions = CompactionView(messages)
        self.live = LiveArea(console, self._live)
        self._answer: MarkdownStream | None = None
        self._reasoning: list[str] = []
        self._reasoning_started = 0.0
        self._running: dict[str, tuple[str, Any, float]] = {}
        self._args: dict[str, Any] = {}
        self._asked: set[str] = set()  # calls whose preview the user saw in a question
        self.subagents = SubagentBlocks()
        self._phase = "Waiting for the model"
        self._started = time.monotonic()
        self._last: str | None = None  # the kind of the last thing committed

    # -- the run ------------------------------------------------------------------------------

    def begin(self) -> None:
        self.recent.new_run()
        self._last = "prompt"
        self._started = time.monotonic()
        self.live.start()

    def pause(self) -> None:
        """Give the terminal back (for a question); the next event takes it again."""
        with self.live.lock:
            self._end_reasoning()
            self._end_answer()
        self.live.stop()

    def resume(self) -> None:
        with self.live.lock:
            # A call's time runs from the answer, not from the question.
            now = time.monotonic()
            self._running = {key: (name, args, now) for key, (name, args, _) in self._running.items()}
        self.live.start()

    def end(self) -> None:
        with self.live.lock:
            self._end_reasoning()
            self._end_answer()
            self._end_running("not finished")
        self.live.stop()

    def handle(self, event: Event) -> None:
        if isinstance(event, SubagentEvent) and isinstance(event.event, ApprovalNeeded):
            event = event.event  # a sub-agent asks like the parent: the approver pauses this view
        if isinstance(event, ApprovalNeeded):
            # The question is asked by the approver, which pauses this view meanwhile.
            with self.live.lock:
                self._asked.add(event.id)
                self._last = "question"
            return
        if not self.live.running:
            self.live.start()
        with self.live.lock:
            self._handle(event)

    def _handle(self, event: Event) -> None:
        if self.compactions.repeats(event):
            return
        if isinstance(event, ReasoningDelta):
            if not self._reasoning:
                self._reasoning_started = time.monotonic()
            self._reasoning.append(event.text)
            self._phase = "Thinking"
        elif isinstance(event, TextDelta):
            self._end_reasoning()
            if self._answer is None:
                from glmcode.ui.render import MarkdownStream

                rows = self.console.size.height
                self._answer = MarkdownStream(
                    self._commit_answer, max_lines=max(8, rows // 2), space_before=self._last is not None
                )
            self._answer.feed(event.text)
            self._phase = "Writing"
        elif isinstance(event, ToolCallStarted):
            self._end_reasoning()
            self._end_answer()
            self._running[event.id] = (event.name, event.arguments, time.monotonic())
            self._args[event.id] = event.arguments
            self._phase = f"Running {event.name}"
            if event.name == "task":
                self.subagents.start(event.id, event.arguments)
        elif isinstance(event, SubagentEvent):
            self.subagents.handle(event)
            if isinstance(event.event, Usage):
                self.status.add_nested(event.event)
        elif isinstance(event, ToolCallFinished):
            self.status.tool_finished(event)
            self._tool_finished(event)
        elif isinstance(event, TurnStarted):
            self._phase = "Waiting for the model"
        elif isinstance(event, TurnFinished):
            self._end_reasoning()
            self._end_answer()
        elif isinstance(event, Usage):
            self.status.add(event)
        elif isinstance(event, Retrying):
            self._reasoning = []
            self._answer = None
            self._phase = f"Retrying in {event.wait:.0f}s"
            self._commit("note", self._note(
                f"↻ {event.reason}; retrying in {event.wait:.1f}s ({event.attempt}/{event.max_attempts})", "yellow"
            ))
        elif isinstance(event, Compacted):
            self.status.compacted(event)
            self._commit("note", self._note(self.compactions.line(event), "dim"))
        elif isinstance(event, Notice):
            self._commit("note", self._note(f"! {event.message}", "yellow" if event.level == "warning" else "dim"))
        elif isinstance(event, ImagesDescribed):
            self._commit("note", self._note(f"◆ {described_text(event)}", "dim"))
        elif isinstance(event, Error):
            self._end_reasoning()
            self._end_answer()
            text = f"✗ {event.message}" + (f"\n  {event.hint}" if event.hint else "")
            self._commit("note", self._note(text, "red"))
        elif isinstance(event, RunFinished):
            self._end_reasoning()
            self._end_answer()
            self._end_running("interrupted" if event.status == "interrupted" else "not finished")
            if event.status == "interrupted":
                self._commit("note", self._note("Interrupted · what was written so far stays in the conversation", "yellow"))
            elif event.status == "max_turns":
                self._commit("note", self._note(f"Stopped after {event.turns} model requests", "yellow"))

    def _tool_finished(self, event: ToolCallFinished) -> None:
        self._running.pop(event.id, None)
        args = self._args.pop(event.id, {})
        shown = tool_view.target(event.name, args)
        self.recent.add_tool(event.name, shown, event.output, event.is_error, event.diff)
        if event.id in self.subagents.blocks:
            self._commit("subagent", self.subagents.finished(event))
        else:
            self._commit("tool", tool_view.finished(event, args, diff_shown=event.id in self._asked))
        if not self._running:
            self._phase = "Waiting for the model"

    # -- committing ---------------------------------------------------------------------------

    def _commit(self, kind: str, renderable: RenderableType) -> None:
        from rich.console import Group
        from rich.text import Text

        spaced = self._last is not None and not (kind == "tool" and self._last == "tool")
        self.live.commit(Group(Text(""), renderable) if spaced else renderable)
        self._last = kind

    def _commit_answer(self, renderable: RenderableType) -> None:
        self.live.commit(renderable)
        self._last = "answer"

    def _end_running(self, why: str) -> None:
        """Calls that will never finish still leave their line."""
        from rich.text import Text

        for call_id, (name, args, _) in list(self._running.items()):
            line = Text("✗ ", style="red")
            line.append(name, style="bold red")
            shown = tool_view.target(name, args)
            if shown:
                line.append(f"  {shown}")
            line.append(f"  {why}", style="red")
            self._commit("tool", line)
            self._args.pop(call_id, None)
        self._running.clear()

    def _end_answer(self) -> None:
        if self._answer is not None:
            self._answer.finish()
            self._answer = None

    def _end_reasoning(self) -> None:
        if not self._reasoning:
            return
        text = "".join(self._reasoning).strip()
        took = time.monotonic() - self._reasoning_started
        self._reasoning = []
        if not text:
            return
        self.recent.reasoning.append(text)
        took_text = f"{took:.1f}s" if took < 10 else elapsed(took)
        self._commit("reasoning", self._note(f"∴ Thought for {took_text} · /reasoning shows it", "dim italic"))

    @staticmethod
    def _note(text: str, style: str) -> RenderableType:
        from rich.text import Text

        return Text(text, style=style)

    # -- the live area ------------------------------------------------------------------------

    def _live(self) -> RenderableType | None:
        from rich.console import Group
        from rich.text import Text

        now = time.monotonic()
        parts: list[Any] = []
        if self._reasoning:
            parts.append(self._reasoning_tail())
        if self._answer is not None:
            tail = self._answer.tail_renderable()
            if tail is not None:
                parts.append(tail)
        for call_id, (name, args, started) in self._running.items():
            if call_id in self.subagents.blocks:
                parts.append(self.subagents.running(call_id, spinner(now), now))
            else:
                parts.append(tool_view.running_line(name, args, now - started, spinner(now)))
        if parts:
            if self._last == "question":
                parts.insert(0, Text(""))
            parts.append(Text(""))
        parts.append(self.status_line(now))
        return Group(*parts)

    def _reasoning_tail(self) -> RenderableType:
        from rich.segment import Segment, Segments
        from rich.text import Text

        # Only the end of the reasoning is laid out, so a long one costs no more per frame.
        text = "".join(self._reasoning[-_REASONING_CHARS:])[-_REASONING_CHARS:].strip()
        console = self.console
        options = console.options.update(width=max(20, console.width - 2))
        lines = console.render_lines(Text(text, style="dim italic"), options, pad=False)[-REASONING_LINES:]
        segments: list[Any] = []
        for line in lines:
            segments.append(Segment("  "))
            segments.extend(line)
            segments.append(Segment.line())
        return Segments(segments)

    def status_line(self, now: float | None = None) -> Text:
        from rich.text import Text

        now = time.monotonic() if now is None else now
        line = Text()
        line.append(f"{spinner(now)} ", style="cyan")
        line.append(self._phase, style="bold")
        line.append(f" · {elapsed(now - self._started)}", style="dim")
        line.append(" · Ctrl-C to stop", style="dim")
        line.append("\n")
        line.append(self.status.line(), style="dim")
        return line

