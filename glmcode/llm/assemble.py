"""Stream chunks in, deltas out, and one ModelReply at the end.

This is the hot path of every reply: `feed` runs once per chunk, so it does the least it can
(a few dict lookups, one list append, one event) and leaves joining and cleaning to `finish`.
"""

from __future__ import annotations

import json
from typing import Any, Mapping

from glmcode.events import ReasoningDelta, TextDelta, TokenUsage, ToolCall
from glmcode.llm.errors import ServerError, error_from_payload
from glmcode.llm.leaked import clean_tool_name, new_call_id, recover_leaked_calls
from glmcode.llm.types import ModelReply

Delta = ReasoningDelta | TextDelta
_NOTHING: tuple[Delta, ...] = ()


class _CallParts:
    """One tool call being put together from the pieces that share its index."""

    __slots__ = ("id", "name", "arguments")

    def __init__(self) -> None:
        self.id = ""
        self.name = ""
        self.arguments: list[str] = []

    def add_name(self, piece: str) -> None:
        # Some servers resend the whole name with every piece; GLM sends it once. Only a
        # piece that neither repeats nor extends what we have is a continuation.
        if not self.name or piece.startswith(self.name):
            self.name = piece
        elif not self.name.endswith(piece):
            self.name += piece


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def usage_from(data: Any) -> TokenUsage:
    """TokenUsage from a `usage` object; cached tokens from `prompt_tokens_details`. Missing
    or odd values count as 0: usage is for display and must not fail a good reply."""
    if not isinstance(data, Mapping):
        return TokenUsage()
    details = data.get("prompt_tokens_details")
    cached = details.get("cached_tokens") if isinstance(details, Mapping) else None
    if cached is None:
        cached = data.get("cached_tokens")
    return TokenUsage(
        prompt_tokens=_count(data.get("prompt_tokens")),
        completion_tokens=_count(data.get("completion_tokens")),
        cached_tokens=_count(cached),
    )


class StreamAssembler:
    """Turns parsed stream chunks into deltas as they come, and into a ModelReply at the end.

    Reasoning arrives as `delta.reasoning_content` (Z.ai, BigModel) or `delta.reasoning`
    (OpenRouter). Tool calls are grouped by index, whether each comes whole or, with
    `tool_stream`, in pieces whose id may be repeated; their arguments stay raw text.
    """

    def __init__(self, *, known_tools: frozenset[str] | None = None, secret: str = "") -> None:
        self._known_tools = known_tools
        self._secret = secret
        self._reasoning: list[str] = []
        self._content: list[str] = []
        self._calls: dict[int, _CallParts] = {}
        self._last_index = -1
        self._finish = ""
        self._usage: Any = None
        self._model = ""
        self._request_id = ""

    def feed(self, chunk: Mapping[str, Any]) -> tuple[Delta, ...]:
        """The deltas one chunk carries (often one, sometimes none). A chunk reporting an
        error raises it as the matching GLMError."""
        if chunk.get("error"):
            raise error_from_payload(chunk, secret=self._secret)
        if not self._request_id:
            self._request_id = chunk.get("request_id") or chunk.get("id") or ""
            self._model = chunk.get("model") or ""
        usage = chunk.get("usage")
        if usage:
            self._usage = usage
        choices = chunk.get("choices")
        if not choices:
            return _NOTHING
        choice = choices[0]
        finish = choice.get("finish_reason")
        if finish:
            self._finish = finish
        delta = choice.get("delta")
        if not delta:
            return _NOTHING
        reasoning = delta.get("reasoning_content")
        if reasoning is None:
            reasoning = delta.get("reasoning")
        text = delta.get("content")
        calls = delta.get("tool_calls")
        if calls:
            self._add_calls(calls)
        if reasoning:
            self._reasoning.append(reasoning)
            if text:
                self._content.append(text)
                return (ReasoningDelta(reasoning), TextDelta(text))
            return (ReasoningDelta(reasoning),)
        if text:
            self._content.append(text)
            return (TextDelta(text),)
        return _NOTHING

    def _index_for(self, piece: Mapping[str, Any]) -> int:
        index = piece.get("index")
        if isinstance(index, int):
            return index
        # No index: a piece with an id we have not seen starts a new call, anything else
        # continues the latest one.
        call_id = piece.get("id")
        if self._last_index < 0 or (
            call_id and all(p.id != call_id for p in self._calls.values())
        ):
            return max(self._calls, default=-1) + 1
        return self._last_index

    def _add_calls(self, pieces: list[Mapping[str, Any]]) -> None:
        for piece in pieces:
            index = self._index_for(piece)
            self._last_index = index
            parts = self._calls.get(index)
            if parts is None:
                parts = self._calls[index] = _CallParts()
            call_id = piece.get("id")
            if call_id and not parts.id:
                parts.id = call_id
            function = piece.get("function") or {}
            name = function.get("name")
            if name:
                parts.add_name(name)
            arguments = function.get("arguments")
            if arguments:
                if not isinstance(arguments, str):
                    arguments = json.dumps(arguments, ensure_ascii=False)
                parts.arguments.append(arguments)

    def _tool_calls(self) -> tuple[ToolCall, ...]:
        calls: list[ToolCall] = []
        seen: set[str] = set()
        for index in sorted(self._calls):
            parts = self._calls[index]
            name, arguments = clean_tool_name(parts.name, "".join(parts.arguments))
            # A missing or repeated id would break the pairing of results with calls.
            call_id = parts.id if parts.id and parts.id not in seen else new_call_id()
            seen.add(call_id)
            calls.append(ToolCall(call_id, name, arguments, index))
        return tuple(calls)

    def finish(self) -> ModelReply:
        """The whole reply. Without a finish reason from the server, it is `tool_calls` if
        calls came and `stop` otherwise."""
        calls = self._tool_calls()
        reply = ModelReply(
            content="".join(self._content),
            reasoning="".join(self._reasoning),
            tool_calls=calls,
            finish_reason=self._finish or ("tool_calls" if calls else "stop"),
            usage=usage_from(self._usage),
            model=self._model,
            request_id=self._request_id,
        )
        return recover_leaked_calls(reply, self._known_tools)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(p.get("text", "") for p in value if isinstance(p, Mapping))
    return str(value)


def reply_from_response(
    data: Mapping[str, Any],
    *,
    known_tools: frozenset[str] | None = None,
    secret: str = "",
) -> ModelReply:
    """The ModelReply in a non-streamed response body (`stream: false`)."""
    if data.get("error"):
        raise error_from_payload(data, secret=secret)
    choices = data.get("choices")
    if not choices or not isinstance(choices, list):
        raise ServerError("GLM answered without a reply (no choices in the response)")
    choice = choices[0]
    message = choice.get("message") or {}
    assembler = StreamAssembler(known_tools=known_tools, secret=secret)
    assembler.feed(
        {
            "id": data.get("request_id") or data.get("id") or "",
            "model": data.get("model") or "",
            "usage": data.get("usage"),
            "choices": [
                {
                    "finish_reason": choice.get("finish_reason"),
                    "delta": {
                        "reasoning_content": _text(
                            message.get("reasoning_content") or message.get("reasoning")
                        ),
                        "content": _text(message.get("content")),
                        "tool_calls": message.get("tool_calls"),
                    },
                }
            ],
        }
    )
    return assembler.finish()
