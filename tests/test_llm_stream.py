"""The SSE reader and the stream assembler on hand-made streams."""

from __future__ import annotations

import json

import pytest

from glmcode.events import ReasoningDelta, TextDelta, TokenUsage, ToolCall
from glmcode.llm.assemble import StreamAssembler, reply_from_response
from glmcode.llm.errors import ContextTooLongError, RateLimitError, ServerError
from glmcode.llm.sse import SSEReader


def read_all(lines: list) -> tuple[list[str], bool]:
    reader = SSEReader(lines)
    return list(reader), reader.done


# --- SSE -------------------------------------------------------------------------------


def test_sse_payloads_and_done() -> None:
    lines = ['data: {"a":1}', "", 'data: {"a":2}', "", "data: [DONE]", ""]
    assert read_all(lines) == (['{"a":1}', '{"a":2}'], True)


def test_sse_without_done_says_so() -> None:
    assert read_all(['data: {"a":1}', ""]) == (['{"a":1}'], False)
    assert read_all([]) == ([], False)


def test_sse_crlf_bytes_comments_and_other_fields() -> None:
    lines = [
        b": keep-alive\r\n",
        b"event: message\r\n",
        b"id: 7\r\n",
        b'data: {"x":"\xc3\xa9"}\r\n',
        b"\r\n",
        b"data:[DONE]\r\n",
    ]
    assert read_all(lines) == (['{"x":"é"}'], True)


def test_sse_multi_line_data_is_joined_with_newlines() -> None:
    lines = ["data: {", 'data: "a": 1', "data: }", "", "data: [DONE]"]
    payloads, done = read_all(lines)
    assert payloads == ['{\n"a": 1\n}'] and json.loads(payloads[0]) == {"a": 1}
    assert done


def test_sse_last_event_without_blank_line_and_nothing_after_done() -> None:
    assert read_all(["data: 1", "", "data: 2"]) == (["1", "2"], False)

    def endless():
        yield "data: 1"
        yield ""
        yield "data: [DONE]"
        raise AssertionError("read past [DONE]")

    assert read_all(endless()) == (["1"], True)


# --- assembly --------------------------------------------------------------------------


def chunk(delta: dict | None = None, finish: str | None = None, usage: dict | None = None) -> dict:
    choice: dict = {"index": 0, "delta": delta or {}}
    if finish:
        choice["finish_reason"] = finish
    out: dict = {"id": "req-1", "created": 1, "model": "glm-4.6", "choices": [choice]}
    if usage:
        out["usage"] = usage
    return out


def piece(
    index: int | None = None,
    id: str | None = None,
    name: str | None = None,
    args: str | None = None,
) -> dict:
    """A chunk carrying one tool-call piece with only the given fields."""
    fn: dict = {}
    if name is not None:
        fn["name"] = name
    if args is not None:
        fn["arguments"] = args
    out: dict = {"type": "function", "function": fn}
    if index is not None:
        out["index"] = index
    if id is not None:
        out["id"] = id
    return chunk({"tool_calls": [out]})


def assemble(chunks: list[dict], known_tools: frozenset[str] | None = None):
    assembler = StreamAssembler(known_tools=known_tools)
    events = []
    for c in chunks:
        events.extend(assembler.feed(c))
    return assembler.finish(), events


USAGE = {
    "prompt_tokens": 100,
    "completion_tokens": 20,
    "total_tokens": 120,
    "prompt_tokens_details": {"cached_tokens": 64},
}


def test_deltas_in_order_and_usage_from_last_chunk() -> None:
    reply, events = assemble(
        [
            chunk({"role": "assistant", "content": "", "reasoning_content": "\nhm"}),
            chunk({"reasoning_content": "m."}),
            chunk({"content": "\nHi"}),
            chunk({"content": " there"}),
            chunk({"content": ""}, finish="stop", usage=USAGE),
        ]
    )
    assert events == [
        ReasoningDelta("\nhm"),
        ReasoningDelta("m."),
        TextDelta("\nHi"),
        TextDelta(" there"),
    ]
    assert (reply.reasoning, reply.content, reply.finish_reason) == ("\nhmm.", "\nHi there", "stop")
    assert reply.usage == TokenUsage(100, 20, 64)
    assert (reply.model, reply.request_id) == ("glm-4.6", "req-1")


def test_openrouter_reasoning_field() -> None:
    reply, events = assemble(
        [
            chunk({"role": "assistant", "content": "", "reasoning": "think"}),
            chunk({"content": "ok", "reasoning": None}),
            chunk({}, finish="stop", usage={"prompt_tokens": 5, "completion_tokens": 2}),
        ]
    )
    assert events == [ReasoningDelta("think"), TextDelta("ok")]
    assert reply.reasoning == "think" and reply.usage == TokenUsage(5, 2, 0)


def test_tool_stream_fragments_with_repeated_ids() -> None:
    reply, events = assemble(
        [
            chunk({"content": "Reading."}),
            piece(0, "call_a", "read_file", ""),
            piece(0, "call_a", None, '{"pa'),
            piece(0, "call_a", None, 'th": "a.py"'),
            piece(1, "call_b", "grep", '{"pattern"'),
            piece(0, "call_a", None, "}"),
            piece(1, "call_b", "grep", ': "TODO"}'),
            chunk({}, finish="tool_calls", usage=USAGE),
        ]
    )
    assert reply.tool_calls == (
        ToolCall("call_a", "read_file", '{"path": "a.py"}', 0),
        ToolCall("call_b", "grep", '{"pattern": "TODO"}', 1),
    )
    assert reply.finish_reason == "tool_calls"
    assert events == [TextDelta("Reading.")]


def test_name_pieces_are_joined_only_when_they_continue() -> None:
    reply, _ = assemble(
        [
            piece(0, "c", "read"),
            piece(0, None, "_file"),
            piece(0, None, "read_file"),
            piece(0, None, None, "{}"),
            chunk({}, finish="tool_calls"),
        ]
    )
    assert reply.tool_calls == (ToolCall("c", "read_file", "{}", 0),)


def test_calls_without_index_or_id_and_duplicate_ids() -> None:
    reply, _ = assemble(
        [
            piece(None, "dup", "a", "{"),
            piece(None, None, None, "}"),
            piece(5, "dup", "b"),
            piece(6, None, "c", "{}"),
            chunk({}, finish="tool_calls"),
        ]
    )
    a, b, c = reply.tool_calls
    assert (a.id, a.name, a.arguments, a.index) == ("dup", "a", "{}", 0)
    assert b.name == "b" and b.id not in ("", "dup") and b.arguments == ""
    assert c.name == "c" and c.id and c.id not in (a.id, b.id)


def test_arguments_that_are_not_json_pass_through_raw() -> None:
    raw = '{"path": "a.py"}{"path": "b.py"}'
    reply, _ = assemble(
        [
            piece(0, "c", "read_file", raw),
            piece(1, "d", "x", "{oops"),
            chunk({}, finish="tool_calls"),
        ]
    )
    assert [c.arguments for c in reply.tool_calls] == [raw, "{oops"]


def test_junk_in_tool_names_is_cleaned() -> None:
    reply, _ = assemble(
        [
            piece(0, "c1", "read_file<arg_key>path</arg_key><arg_value>src/a.py</arg_value>", ""),
            piece(1, "c2", "run_shell\n<arg_key>command", '{"command": "ls"}'),
            chunk({}, finish="tool_calls"),
        ]
    )
    first, second = reply.tool_calls
    assert (first.name, json.loads(first.arguments)) == ("read_file", {"path": "src/a.py"})
    assert (second.name, second.arguments) == ("run_shell", '{"command": "ls"}')


def test_error_chunk_raises_the_mapped_error() -> None:
    assembler = StreamAssembler(secret="sk-secret-value-123")
    assembler.feed(chunk({"content": "par"}))
    with pytest.raises(RateLimitError) as caught:
        assembler.feed({"error": {"code": "1305", "message": "overloaded sk-secret-value-123"}})
    assert caught.value.retryable and "sk-secret" not in str(caught.value)
    with pytest.raises(ServerError):
        StreamAssembler().feed({"error": {"message": "upstream went away"}})
    with pytest.raises(ContextTooLongError):
        StreamAssembler().feed({"error": {"code": "1261", "message": "Prompt exceeds max length"}})


def test_missing_finish_reason_is_inferred() -> None:
    reply, _ = assemble([chunk({"content": "x"})])
    assert reply.finish_reason == "stop"
    reply, _ = assemble([piece(0, "c", "a", "{}")])
    assert reply.finish_reason == "tool_calls"


def test_whole_response_with_openrouter_reasoning_and_list_content() -> None:
    reply = reply_from_response(
        {
            "id": "gen-1",
            "model": "z-ai/glm-4.6",
            "choices": [
                {
                    "finish_reason": "stop",
                    "message": {
                        "role": "assistant",
                        "reasoning": "because",
                        "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}],
                    },
                }
            ],
            "usage": {"prompt_tokens": 3, "completion_tokens": 4, "cached_tokens": 1},
        }
    )
    assert (reply.reasoning, reply.content, reply.request_id) == ("because", "ab", "gen-1")
    assert reply.usage == TokenUsage(3, 4, 1)
    with pytest.raises(ServerError):
        reply_from_response({"id": "x"})


def test_odd_usage_values_count_as_zero_and_null_error_is_no_error() -> None:
    reply, _ = assemble(
        [
            {**chunk({"content": "x"}), "error": None},
            chunk(
                {},
                finish="stop",
                usage={"prompt_tokens": "12", "completion_tokens": None, "cached_tokens": True},
            ),
        ]
    )
    assert reply.content == "x" and reply.usage == TokenUsage(0, 0, 0)
