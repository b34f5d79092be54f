"""The agent loop: request, stream, run the tool calls, append, repeat.

A turn is one model request. A run is everything the agent does for one user prompt: turns
until the model answers without calling a tool, a turn limit, an error or an interrupt. The
conversation only ever grows by appending, and the system prompt and tool list are the same
objects on every request, so GLM's implicit prompt cache sees one long stable prefix.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from glmcode.agent.tool_calls import ToolRunner, interrupted_results
from glmcode.events import (
    Error,
    Event,
    MessageAdded,
    ReasoningDelta,
    Retrying,
    RunFinished,
    TextDelta,
    TokenUsage,
    ToolCall,
    TurnFinished,
    TurnStarted,
    Usage,
)
from glmcode.llm.types import ModelReply


class ModelClient(Protocol):
    def stream(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None
    ) -> Iterator[ReasoningDelta | TextDelta | Retrying | ModelReply]: ...


class EventSink(Protocol):
    def write(self, event: Event) -> None: ...


@dataclass
class _Partial:
    """What a turn has produced so far, kept so an interrupt loses nothing."""

    text: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    calls: tuple[ToolCall, ...] = ()
    results: list[tuple[ToolCall, str]] = field(default_factory=list)
    answered: set[str] = field(default_factory=set)
    reply_appended: bool = False


class Agent:
    def __init__(
        self,
        client: ModelClient,
        runner: ToolRunner,
        *,
        system_prompt: str,
        context_window: int,
        cost: Callable[[TokenUsage], float],
        max_turns: int | None = None,
        sink: EventSink | None = None,
        messages: list[dict[str, Any]] | None = None,
    ) -> None:
        self.client = client
        self.runner = runner
        self.context_window = context_window
        self.cost = cost
        self.max_turns = max_turns
        self.sink = sink
        self.messages: list[dict[str, Any]] = messages or [{"role": "system", "content": system_prompt}]
        self.usage = TokenUsage()
        self.cost_usd = 0.0

    def run(self, prompt: str) -> Generator[Event, None, None]:
        """Yields the run's events; each is in the session file before it is yielded.

        An interrupt thrown in here (see `drive`) is passed on to the turn in progress.
        """
        inner = self._run(prompt)
        advance: Callable[[], Event] = lambda: next(inner)
        while True:
            try:
                event = advance()
            except StopIteration:
                return
            if self.sink is not None:
                self.sink.write(event)
            try:
                yield event
                advance = lambda: next(inner)
            except KeyboardInterrupt:
                advance = lambda: inner.throw(KeyboardInterrupt())

    def _append(self, message: dict[str, Any]) -> MessageAdded:
        self.messages.append(message)
        return MessageAdded(message)

    def _run(self, prompt: str) -> Iterator[Event]:
        run_usage = TokenUsage()
        run_cost = 0.0
        turn = 0
        partial = _Partial()
        tools = self.runner.registry.schemas() or None
        try:
            yield self._append({"role": "user", "content": prompt})
            while True:
                if self.max_turns is not None and turn >= self.max_turns:
                    yield RunFinished("max_turns", _last_text(self.messages), turn, run_usage, run_cost)
                    return
                turn += 1
                partial = _Partial()
                yield TurnStarted(turn)
                reply = yield from self._stream(tools, partial)
                if reply is None:
                    yield RunFinished("error", "", turn, run_usage, run_cost)
                    return
                reply = _with_distinct_ids(reply)
                partial.calls = reply.tool_calls
                yield self._append(reply.to_message())
                partial.reply_appended = True
                cost = self.cost(reply.usage)
                run_usage, run_cost = run_usage + reply.usage, run_cost + cost
                self.usage, self.cost_usd = self.usage + reply.usage, self.cost_usd + cost
                yield Usage(
                    reply.usage.prompt_tokens,
                    reply.usage.completion_tokens,
                    reply.usage.cached_tokens,
                    round(cost, 6),
                    self.context_window,
                )
                yield TurnFinished(turn, reply.finish_reason)
                if not reply.tool_calls:
                    if reply.finish_reason == "length" and not reply.content.strip():
                        yield Error(
                            "length",
                            "the model spent its whole output budget without answering",
                            "raise max_tokens (--max-tokens or max_tokens in the config), or ask for less at once",
                        )
                        yield RunFinished("error", "", turn, run_usage, run_cost)
                        return
                    yield RunFinished("done", reply.content, turn, run_usage, run_cost)
                    return
                yield from self.runner.run(reply.tool_calls, partial.results)
                for call, text in partial.results:
                    yield self._answer(partial, call, text)
                partial = _Partial()
        except KeyboardInterrupt:
            yield from self._close_interrupted(partial)
            yield RunFinished("interrupted", _last_text(self.messages), turn, run_usage, run_cost)

    def _stream(self, tools: list[dict[str, Any]] | None, partial: _Partial) -> Generator[Event, None, ModelReply | None]:
        from glmcode.llm.errors import GLMError

        stream = self.client.stream(self.messages, tools)
        try:
            for item in stream:
                if isinstance(item, TextDelta):
                    partial.text.append(item.text)
                elif isinstance(item, ReasoningDelta):
                    partial.reasoning.append(item.text)
                elif isinstance(item, Retrying):
                    partial.text.clear()
                    partial.reasoning.clear()
                elif isinstance(item, ModelReply):
                    return item
                yield item
        except GLMError as exc:
            yield Error(exc.kind, str(exc), exc.hint)
            return None
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()  # an interrupt leaves the response open otherwise
        yield Error("protocol", "the model's stream ended without a reply", "")
        return None

    def _answer(self, partial: _Partial, call: ToolCall, text: str) -> MessageAdded:
        partial.answered.add(call.id)
        return self._append({"role": "tool", "tool_call_id": call.id, "content": text})

    def _close_interrupted(self, partial: _Partial) -> Iterator[Event]:
        """Keep what the user saw, and answer every pending call, so the conversation stays
        valid for the next prompt."""
        if not partial.reply_appended:
            text = "".join(partial.text)
            if text or partial.reasoning:
                msg: dict[str, Any] = {"role": "assistant", "content": text}
                if partial.reasoning:
                    msg["reasoning_content"] = "".join(partial.reasoning)
                yield self._append(msg)
            return
        for call, text in interrupted_results(partial.calls, partial.results):
            if call.id not in partial.answered:
                yield self._answer(partial, call, text)


def drive(events: Generator[Event, None, None], handle: Callable[[Event], None]) -> None:
    """Feed every event to `handle`. An interrupt raised in `handle` (the user pressed Ctrl-C
    while we were drawing) is passed into the agent, which closes the turn cleanly."""
    pending: Event | None = None
    while True:
        try:
            if pending is not None:
                event, pending = pending, None
                handle(event)
            for event in events:
                handle(event)
            return
        except KeyboardInterrupt:
            try:
                pending = events.throw(KeyboardInterrupt())
            except StopIteration:
                return


def _with_distinct_ids(reply: ModelReply) -> ModelReply:
    """GLM sometimes repeats an id across parallel calls, or sends none; results are paired
    by id, so each call gets its own."""
    seen: set[str] = set()
    calls = []
    changed = False
    for n, call in enumerate(reply.tool_calls):
        call_id = call.id or f"call_{n}"
        if call_id in seen:
            call_id = f"{call_id}_{n}"
        if call_id != call.id:
            changed = True
            call = ToolCall(call_id, call.name, call.arguments, call.index)
        seen.add(call_id)
        calls.append(call)
    if not changed:
        return reply
    from dataclasses import replace

    return replace(reply, tool_calls=tuple(calls))


def _last_text(messages: list[dict[str, Any]]) -> str:
    for m in reversed(messages):
        if m.get("role") == "assistant" and m.get("content"):
            return str(m["content"])
    return ""
