"""Real recorded GLM traffic through the SSE reader, the assembler and the response reader."""

from __future__ import annotations

import json

import pytest

from glmcode.events import ReasoningDelta, TextDelta, TokenUsage, ToolCall
from glmcode.llm.assemble import StreamAssembler, reply_from_response
from glmcode.llm.sse import SSEReader
from glmcode.llm.types import ModelReply

from conftest import RECORDINGS


def stream_reply(name: str) -> tuple[ModelReply, list[object], bool]:
    reader = SSEReader((RECORDINGS / name).read_bytes().splitlines())
    assembler = StreamAssembler()
    events: list[object] = []
    for payload in reader:
        events.extend(assembler.feed(json.loads(payload)))
    return assembler.finish(), events, reader.done


def whole_reply(name: str) -> ModelReply:
    return reply_from_response(json.loads((RECORDINGS / name).read_text("utf-8")))


def replayed_assistant(case: str) -> dict:
    """The assistant message the recording client sent back in turn 1."""
    body = json.loads((RECORDINGS / f"{case}.1.request.json").read_text("utf-8"))["body"]
    [message] = [m for m in body["messages"] if m["role"] == "assistant"]
    return message


TWO_TURN_STREAMS = ["tool_streaming", "multi_tool_streaming", "thinking_streaming"]
TWO_TURN_WHOLE = ["tool", "multi_tool", "thinking"]


@pytest.mark.parametrize("case", TWO_TURN_STREAMS)
def test_streamed_turn0_replays_exactly_as_the_recorded_client_sent_it(case: str) -> None:
    reply, _, done = stream_reply(f"{case}.0.sse")
    assert done
    assert reply.finish_reason == "tool_calls"
    assert reply.to_message() == replayed_assistant(case)


@pytest.mark.parametrize("case", TWO_TURN_WHOLE)
def test_whole_turn0_replays_exactly_as_the_recorded_client_sent_it(case: str) -> None:
    reply = whole_reply(f"{case}.0.response.json")
    assert reply.finish_reason == "tool_calls"
    assert reply.to_message() == replayed_assistant(case)


@pytest.mark.parametrize(
    "name",
    sorted(p.name for p in RECORDINGS.glob("*.sse")) if RECORDINGS.is_dir() else [],
)
def test_deltas_add_up_to_the_reply_and_reasoning_comes_first(name: str) -> None:
    reply, events, done = stream_reply(name)
    assert done
    reasoning = "".join(e.text for e in events if isinstance(e, ReasoningDelta))
    content = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert (reasoning, content) == (reply.reasoning, reply.content)
    kinds = [type(e) for e in events]
    assert kinds.index(TextDelta) > max(i for i, k in enumerate(kinds) if k is ReasoningDelta)


def test_multi_tool_stream_two_calls_by_index() -> None:
    reply, _, _ = stream_reply("multi_tool_streaming.0.sse")
    assert reply.tool_calls == (
        ToolCall("call_4be9c6251abb4f3fbc1956bd", "add", '{"a":2,"b":3}', 0),
        ToolCall("call_29207bee5b434b86830450d2", "multiply", '{"a":2,"b":3}', 1),
    )
    assert reply.content == "\nI'll add and multiply the numbers 2 and 3 for you.\n"
    assert reply.usage == TokenUsage(282, 145, 258)
    assert reply.request_id == "20251111175650c48a4928f3614935"
    assert reply.model == "glm-4.5"


def test_simple_stream() -> None:
    reply, events, _ = stream_reply("simple_streaming.0.sse")
    assert reply.reasoning == (
        '\nThe person is asking me to say "hi" in Portuguese. In Portuguese, "hi" or "hello" '
        'is typically translated as "Olá" or "Oi". Both are common greetings in '
        'Portuguese-speaking countries.\n\n"Olá" is a bit more formal, while "Oi" is more '
        'informal and casual. Since the request is just to say "hi", either would be '
        "appropriate. I'll provide both options with a brief explanation of their usage."
    )
    assert reply.content == (
        'Hi in Portuguese is "Olá" or "Oi". \n\n"Olá" is a standard greeting that can be used '
        'in both formal and informal situations, while "Oi" is more casual and commonly used '
        "among friends and in informal settings."
    )
    assert reply.tool_calls == ()
    assert reply.finish_reason == "stop"
    assert reply.usage == TokenUsage(prompt_tokens=16, completion_tokens=145, cached_tokens=6)
    assert reply.to_message() == {
        "role": "assistant",
        "content": reply.content,
        "reasoning_content": reply.reasoning,
    }
    assert len(events) > 100


@pytest.mark.parametrize(
    "name, reasoning, content, usage",
    [
        (
            "multi_tool_streaming.1.sse",
            "\nThe results are:\n- Adding 2 and 3 gives 5\n- Multiplying 2 and 3 gives 6\n\n"
            "I should present both results clearly to the user.",
            "\nThe results are:\n- **Addition**: 2 + 3 = 5\n- **Multiplication**: 2 × 3 = 6",
            TokenUsage(440, 73, 258),
        ),
        (
            "thinking_streaming.1.sse",
            '\nThe weather function returned "40 C" for Florence, Italy. This indicates the '
            "current temperature is 40 degrees Celsius, which is quite hot. I should provide "
            "this information to the user in a clear and helpful way.",
            "\nThe current weather in Florence, Italy is 40°C (104°F). That's quite hot! It's "
            "a very warm day, so if you're planning to be outdoors, make sure to stay "
            "hydrated and seek shade when possible.",
            TokenUsage(271, 96, 262),
        ),
        (
            "tool_streaming.1.sse",
            "\nThe weather function returned a temperature of 40°C for Florence, Italy. This "
            "is quite hot! I should provide this information to the user in a clear and "
            "helpful way.",
            "\nThe current weather in Florence, Italy is 40°C (104°F). That's quite hot! It's "
            "a very warm day there, so if you're planning to visit, make sure to stay "
            "hydrated and protect yourself from the sun.",
            TokenUsage(264, 88, 194),
        ),
    ],
)
def test_final_streamed_turns(name: str, reasoning: str, content: str, usage: TokenUsage) -> None:
    reply, _, _ = stream_reply(name)
    assert (reply.reasoning, reply.content) == (reasoning, content)
    assert reply.tool_calls == ()
    assert reply.finish_reason == "stop"
    assert reply.usage == usage


def test_whole_simple_response() -> None:
    reply = whole_reply("simple.0.response.json")
    assert reply.content == "Olá!"
    assert reply.reasoning.startswith('\nThe user is asking me to say "hi" in Portuguese.')
    assert reply.reasoning.endswith("I'll respond with this greeting.")
    assert reply.finish_reason == "stop"
    assert reply.usage == TokenUsage(16, 72, 7)
    assert reply.request_id == "2025111117561942405e9f6eb547c7"


def test_whole_tool_response() -> None:
    reply = whole_reply("tool.0.response.json")
    assert reply.content == "\n"
    assert reply.tool_calls == (
        ToolCall("call_-8170221349237369383", "weather", '{"location":"Florence,Italy"}', 0),
    )
    assert reply.usage == TokenUsage(179, 70, 44)


@pytest.mark.parametrize(
    "name, content, usage",
    [
        (
            "tool.1.response.json",
            "\nThe weather in Florence, Italy is currently 40°C (104°F). That's quite hot! Make "
            "sure to stay hydrated and seek shade if you're visiting or in the area.",
            TokenUsage(257, 76, 43),
        ),
        (
            "multi_tool.1.response.json",
            "\nThe results are:\n- Addition: 2 + 3 = 5\n- Multiplication: 2 × 3 = 6",
            TokenUsage(435, 77, 43),
        ),
        (
            "thinking.1.response.json",
            "\nThe current weather in Florence, Italy is 40°C (104°F). That's quite hot! Make "
            "sure to stay hydrated and seek shade if you're out and about.",
            TokenUsage(278, 80, 176),
        ),
    ],
)
def test_final_whole_turns(name: str, content: str, usage: TokenUsage) -> None:
    reply = whole_reply(name)
    assert reply.content == content
    assert reply.reasoning.startswith("\n") and len(reply.reasoning) > 50
    assert reply.finish_reason == "stop"
    assert reply.tool_calls == ()
    assert reply.usage == usage
