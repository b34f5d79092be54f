"""The agent loop: request, stream, run the tool calls, append, repeat.

A turn is one model request. A run is everything the agent does for one user prompt: turns
until the model answers without calling a tool, a turn limit, an error or an interrupt. The
conversation only ever grows by appending, and the system prompt and tool list are the same
objects on every request, so GLM's implicit prompt cache sees one long stable prefix. The one
exception is compaction, which replaces older turns by a summary when the conversation nears
the context window (or the API says it is too long), breaking the prefix once on purpose.

Before the first tool call of a run that may change files, `before_changes` is called (the
workspace checkpoint), and `after_changes` once that run has ended; a model that repeats
itself is stopped. A `tool_source` (the MCP servers) brings the tool list up to date at the
start of each run and between its requests.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Protocol

from glmcode.agent.compaction import (
    CHARS_PER_TOKEN,
    Compaction,
    CompactionError,
    compact,
    conversation_chars,
    describe_compaction,
    estimate_tokens,
)
from glmcode.agent.loop_guard import LoopGuard
from glmcode.agent.run_state import Partial, Totals, last_text
from glmcode.agent.tool_calls import ToolRunner, interrupted_results, with_distinct_ids
from glmcode.agent.tool_images import message as images_message
from glmcode.events import (
    Compacted,
    Error,
    Event,
    MessageAdded,
    Notice,
    ReasoningDelta,
    Retrying,
    SubagentEvent,
    TextDelta,
    TokenUsage,
    ToolCall,
    TurnFinished,
    TurnStarted,
    Usage,
)
from glmcode.llm.catalog import DEFAULT_MAX_TOKENS, sees_images
from glmcode.llm.errors import ContextTooLongError, GLMError
from glmcode.llm.types import ModelReply

if TYPE_CHECKING:
    from glmcode.hooks.engine import Hooks

DEFAULT_COMPACT_THRESHOLD = 0.8
CHANGING_KINDS = frozenset({"edit", "shell", "mcp"})  # an MCP server's tool may write files too
_GOES_AHEAD = " The request is sent as it is; the API says whether it fits."


class ModelClient(Protocol):
    @property
    def model(self) -> str: ...

    def stream(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None
    ) -> Iterator[ReasoningDelta | TextDelta | Retrying | ModelReply]: ...


class ToolSource(Protocol):
    def before_run(self) -> Iterable[Event]: ...

    def between_turns(self) -> Iterable[Event]: ...


class EventSink(Protocol):
    def write(self, event: Event) -> None: ...


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
        compact_threshold: float = DEFAULT_COMPACT_THRESHOLD,
        max_output: int = DEFAULT_MAX_TOKENS,
        loop_guard: LoopGuard | None = None,
        before_changes: Callable[[int], Iterable[Event]] | None = None,
        after_changes: Callable[[], Iterable[Event]] | None = None,
        tool_source: ToolSource | None = None,
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
        self.compact_threshold = compact_threshold
        self.max_output = max_output
        self.loop_guard = loop_guard or LoopGuard()
        self.before_changes = before_changes
        self.after_changes = after_changes
        # agent/structured.py: extra request fields; an answer's check gives the run's status, or "" to go on.
        self.request_options: dict[str, Any] = {}
        self.answer_check: Callable[[str], Generator[Event, None, str]] | None = None
        self.hooks: Hooks | None = None  # the user's prompt and stop hooks, when there are any
        self.tool_source = tool_source
        self._checkpointed = False
        self.on_run_start: Callable[[], None] | None = None  # told as each run's request goes out
        self._stop_requested = False
        self._prompt_index = 0
        # (prompt + completion tokens of the last reply, messages up to it, the reply itself):
        # the next prompt is that much plus whatever was appended since.
        self._measured: tuple[int, int, dict[str, Any]] | None = None
        # Characters per token in this conversation: an estimate on the safe side, lowered when
        # the API counts more tokens than it predicts (text in Chinese, say).
        self.chars_per_token = CHARS_PER_TOKEN

    def run(self, prompt: str | list[dict[str, Any]]) -> Generator[Event, None, None]:
        """Yields the run's events; each is in the session file before it is yielded.

        An interrupt thrown in here (see `drive`) is passed on to the turn in progress.
        """
        if self.hooks is not None:
            return self._emit(self._after_changes(self.hooks.around_run(prompt, self._run)))
        return self._emit(self._after_changes(self._run(prompt)))

    def stop_after_turn(self) -> None:
        """Ends the run in progress once this turn's tool calls have run, before another
        request, as the turn limit would (a spending limit, say)."""
        self._stop_requested = True

    def compact(self, focus: str = "") -> Generator[Event, None, None]:
        """Compacts the conversation now (`/compact`), whatever its size; `focus` tells the
        summary what to keep above all."""
        return self._emit(self._compact_now(focus))

    def prompt_estimate(self) -> int:
        """The next request's prompt in tokens: as measured by the last reply plus what came
        after it, or estimated from the characters when there is no measure."""
        if self._measured is not None:
            tokens, upto, last = self._measured
            if upto <= len(self.messages) and self.messages[upto - 1] is last:
                return tokens + estimate_tokens(self.messages[upto:], None, self.chars_per_token)
        return estimate_tokens(self.messages, self.runner.registry.schemas(), self.chars_per_token)

    def _calibrate(self, sent_chars: int, tokens: int) -> None:
        """Learns from a request's size in characters and in tokens (counted by the API, or
        known to be above the window when it was refused)."""
        if sent_chars > 0 and tokens > 0:
            self.chars_per_token = max(0.5, min(self.chars_per_token, sent_chars / tokens))

    def _emit(self, inner: Iterator[Event]) -> Generator[Event, None, None]:
        advance: Callable[[], Event] = lambda: next(inner)
        while True:
            try:
                event = advance()
            except StopIteration:
                return
            if self.sink is not None:
                self.sink.write(event)
            if isinstance(event, SubagentEvent) and isinstance(u := event.event, Usage):  # counted, not in this context
                self._account(TokenUsage(u.prompt_tokens, u.completion_tokens, u.cached_tokens), self._totals, u.cost_usd)
            try:
                yield event
                advance = lambda: next(inner)
            except KeyboardInterrupt:
                advance = lambda: inner.throw(KeyboardInterrupt())

    def _append(self, message: dict[str, Any]) -> MessageAdded:
        self.messages.append(message)
        return MessageAdded(message)

    def _after_changes(self, run: Iterator[Event]) -> Iterator[Event]:
        """The run, then `after_changes` if `before_changes` was called in it, however it ended."""
        self._checkpointed = False
        yield from run
        if self._checkpointed and self.after_changes is not None:
            yield from self.after_changes()

    def _run(self, prompt: str | list[dict[str, Any]]) -> Iterator[Event]:
        if self.tool_source is not None:
            yield from self.tool_source.before_run()
        totals = self._totals = Totals()  # sub-agents' usage is added to it too
        turn = 0
        partial = Partial()
        tools = self.runner.registry.schemas() or None
        self.loop_guard.reset()
        self._stop_requested = False
        compact_blocked = 0  # nothing could be cut: none until the conversation has grown; the API judges
        try:
            self._prompt_index = len(self.messages)
            yield self._append({"role": "user", "content": prompt})
            if self.on_run_start is not None:
                self.on_run_start()
            while True:
                if self._stop_requested or (self.max_turns is not None and turn >= self.max_turns):
                    yield totals.finished("max_turns", last_text(self.messages), turn)
                    return
                turn += 1
                partial = Partial()
                if len(self.messages) > compact_blocked and self.prompt_estimate() >= self.compact_threshold * self.context_window:
                    done = yield from self._compact(tools, "", totals)
                    compact_blocked = len(self.messages) if done is None else 0
                yield TurnStarted(turn)
                sent_chars = conversation_chars(self.messages, tools)
                reply = yield from self._stream(tools, partial)
                if isinstance(reply, ContextTooLongError):
                    self._calibrate(sent_chars, self.context_window)
                    done = yield from self._compact(tools, "", totals)
                    if done is not None:
                        partial = Partial()
                        yield Retrying("the conversation did not fit the context window, so it was compacted", 0.0, 2, 2)
                        sent_chars = conversation_chars(self.messages, tools)
                        reply = yield from self._stream(tools, partial)
                if not isinstance(reply, ModelReply):
                    if reply is None:
                        yield Error("protocol", "the model's stream ended without a reply", "")
                    else:
                        yield Error(reply.kind, str(reply), reply.hint)
                    yield totals.finished("error", "", turn)
                    return
                reply = with_distinct_ids(reply)
                partial.calls = reply.tool_calls
                yield self._append(reply.to_message())
                partial.reply_appended = True
                if reply.usage.prompt_tokens:
                    self._calibrate(sent_chars, reply.usage.prompt_tokens)
                    self._measured = (
                        reply.usage.prompt_tokens + reply.usage.completion_tokens,
                        len(self.messages),
                        self.messages[-1],
                    )
                yield self._account(reply.usage, totals)
                yield TurnFinished(turn, reply.finish_reason)
                if not reply.tool_calls:
                    if reply.finish_reason == "length" and not reply.content.strip():
                        yield Error(
                            "length",
                            "the model spent its whole output budget without answering",
                            "raise max_tokens (--max-tokens or max_tokens in the config), or ask for less at once",
                        )
                        yield totals.finished("error", "", turn)
                        return
                    ending = "done" if self.answer_check is None else (yield from self.answer_check(reply.content))
                    if ending:
                        yield totals.finished(ending, reply.content, turn)
                        return
                    continue
                verdict = self.loop_guard.check(reply.content, reply.tool_calls)
                if verdict.stop is not None:
                    for call in reply.tool_calls:
                        yield self._answer(partial, call, f"Not run: glmcode stopped this turn because {verdict.stop}.")
                    yield Error(
                        "loop",
                        f"Stopped: {verdict.stop}, and it went on after being told to change course.",
                        "The conversation is kept. Give the model what it is missing, or rephrase the request, and send it again.",
                    )
                    yield totals.finished("error", last_text(self.messages), turn)
                    return
                if not self._checkpointed and self.before_changes is not None and self._may_change(reply.tool_calls):
                    self._checkpointed = True
                    yield from self.before_changes(self._prompt_index)
                sees = sees_images(self.client.model)
                yield from self.runner.run(reply.tool_calls, partial.results, sees_images=sees)
                spent, self.runner.spent_usd = self.runner.spent_usd, 0.0
                totals.cost, self.cost_usd = totals.cost + spent, self.cost_usd + spent
                if verdict.note is not None and partial.results:
                    call, text = partial.results[-1]
                    partial.results[-1] = (call, f"{text}\n\n{verdict.note}")
                    yield Notice("The model is repeating itself; glmcode told it to change course.")
                yield from self._answer_all(partial, partial.results)
                partial = Partial()
                if self.tool_source is not None:  # a server announced a new tool list
                    yield from self.tool_source.between_turns()
                    tools = self.runner.registry.schemas() or None
        except KeyboardInterrupt:
            yield from self._close_interrupted(partial)
            yield totals.finished("interrupted", last_text(self.messages), turn)

    def _account(self, usage: TokenUsage, totals: Totals, cost: float | None = None) -> Usage:
        cost = self.cost(usage) if cost is None else cost
        totals.usage, totals.cost = totals.usage + usage, totals.cost + cost
        self.usage, self.cost_usd = self.usage + usage, self.cost_usd + cost
        return Usage(usage.prompt_tokens, usage.completion_tokens, usage.cached_tokens, round(cost, 6), self.context_window)

    def _may_change(self, calls: tuple[ToolCall, ...]) -> bool:
        for call in calls:
            tool = self.runner.registry.get(call.name)
            if tool is not None and tool.kind in CHANGING_KINDS:
                return True
        return False

    def _compact_now(self, focus: str) -> Iterator[Event]:
        try:
            yield from self._compact(self.runner.registry.schemas() or None, focus, Totals(), by_hand=True)
        except KeyboardInterrupt:
            yield Notice("Compaction interrupted; the conversation is unchanged.", "info")

    def _compact(
        self, tools: list[dict[str, Any]] | None, focus: str, totals: Totals, *, by_hand: bool = False
    ) -> Generator[Event, None, Compaction | None]:
        """Replaces older turns by a summary; None (and a notice) when that cannot be done."""
        if not by_hand:
            yield Notice("The conversation is nearly as long as the context window allows; summarising older turns.", "info")
        try:
            result = yield from compact(
                self.client,
                self.messages,
                tools,
                context_window=self.context_window,
                max_output=self.max_output,
                before=self.prompt_estimate(),
                focus=focus,
                chars_per_token=self.chars_per_token,
            )
        except (CompactionError, GLMError) as exc:
            level = "info" if by_hand and isinstance(exc, CompactionError) else "warning"
            yield Notice(f"Could not compact the conversation: {exc}." + ("" if by_hand else _GOES_AHEAD), level)
            return None
        self.messages[:] = result.messages
        self._measured = None
        if result.prompt_index is not None:
            self._prompt_index = result.prompt_index
        if result.usage.prompt_tokens or result.usage.completion_tokens:
            yield self._account(result.usage, totals)
        yield Compacted(result.before, result.after, result.summary, result.messages[1:])
        yield Notice(describe_compaction(result), "info")
        return result

    def _stream(
        self, tools: list[dict[str, Any]] | None, partial: Partial
    ) -> Generator[Event, None, ModelReply | GLMError | None]:
        """The reply; the error when the request failed; None when the stream just ended."""
        stream = self.client.stream(self.messages, tools, **self.request_options)
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
            return exc
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()  # an interrupt leaves the response open otherwise
        return None

    def _answer(self, partial: Partial, call: ToolCall, text: str) -> MessageAdded:
        partial.answered.add(call.id)
        return self._append({"role": "tool", "tool_call_id": call.id, "content": text})

    def _answer_all(self, partial: Partial, results: list[tuple[ToolCall, str]]) -> Iterator[Event]:
        """The calls not yet answered, in the model's order; then the images their results
        returned, for a model that sees (a tool message is text only)."""
        for call, text in results:
            if call.id not in partial.answered:
                yield self._answer(partial, call, text)
        shown = images_message(self.runner.take_images())
        if shown is not None:
            yield self._append(shown)

    def _close_interrupted(self, partial: Partial) -> Iterator[Event]:
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
        yield from self._answer_all(partial, interrupted_results(partial.calls, partial.results))

