"""Encode a reply as GLM's server-sent events, byte for byte as the recorded streams.

Each event is pre-encoded to bytes so the server writes it in one call. The shapes:
- reasoning piece: `{"role":"assistant","reasoning_content":P}`; a blank piece (only
  whitespace, like the opening "\\n") also carries `"content":""` before it, as GLM does;
- content piece: `{"role":"assistant","content":P}`;
- tool call (no role): whole in one delta, or with tool_stream in fragments keyed by index;
- last chunk: finish_reason, `{"role":"assistant","content":""}` and the usage, then [DONE].
"""

from __future__ import annotations

from glmcode.testing.replies import Call, Reply, encode_json, split_arguments

DONE = b"data: [DONE]\n\n"
_END = b"}]}\n\n"
# With tool_stream, every third argument fragment repeats the call's id, as GLM's do.
_ID_REPEAT_EVERY = 3


def stream_events(reply: Reply, tool_stream: bool = False) -> list[bytes]:
    """All events of the reply in order, the last one being [DONE]."""
    return [*content_events(reply, tool_stream), final_event(reply), DONE]


def content_events(reply: Reply, tool_stream: bool = False) -> list[bytes]:
    """The events before the final chunk: reasoning, content, then tool calls."""
    head = _head(reply)
    delta = head + b'"delta":'
    reasoning = delta + b'{"role":"assistant","reasoning_content":'
    blank_reasoning = delta + b'{"role":"assistant","content":"","reasoning_content":'
    content = delta + b'{"role":"assistant","content":'
    events = [
        (reasoning if piece.strip() else blank_reasoning) + _json(piece) + b"}" + _END
        for piece in reply.reasoning
    ]
    events.extend(content + _json(piece) + b"}" + _END for piece in reply.content)
    for index, call in enumerate(reply.tool_calls):
        deltas = _call_fragments(call, index) if tool_stream else [_whole_call(call, index)]
        events.extend(delta + _json({"tool_calls": [d]}) + _END for d in deltas)
    return events


def final_event(reply: Reply) -> bytes:
    return (
        _head(reply)
        + b'"finish_reason":'
        + _json(reply.finish_reason)
        + b',"delta":{"role":"assistant","content":""}}],"usage":'
        + _json(reply.usage)
        + b"}\n\n"
    )


def error_event(code: str, message: str) -> bytes:
    return b"data: " + _json({"error": {"code": code, "message": message}}) + b"\n\n"


def malformed_event(reply: Reply) -> bytes:
    """A `data:` line cut off mid-object, as a broken proxy or a truncated write leaves it."""
    return _head(reply) + b'"delta":{"role":"assistant","content":"\n\n'


def _head(reply: Reply) -> bytes:
    return (
        b'data: {"id":'
        + _json(reply.id)
        + b',"created":'
        + str(reply.created).encode()
        + b',"model":'
        + _json(reply.model)
        + b',"choices":[{"index":0,'
    )


def _whole_call(call: Call, index: int) -> dict:
    return {
        "id": call.id,
        "index": index,
        "type": "function",
        "function": {"name": call.name, "arguments": call.arguments},
    }


def _call_fragments(call: Call, index: int) -> list[dict]:
    opening = {
        "id": call.id,
        "index": index,
        "type": "function",
        "function": {"name": call.name, "arguments": ""},
    }
    fragments: list[dict] = [opening]
    for n, piece in enumerate(split_arguments(call.arguments), 1):
        if n % _ID_REPEAT_EVERY == 0:
            fragments.append({"id": call.id, "index": index, "function": {"arguments": piece}})
        else:
            fragments.append({"index": index, "function": {"arguments": piece}})
    return fragments


def _json(value: object) -> bytes:
    return encode_json(value).encode()
