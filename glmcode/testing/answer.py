"""Decide what the fake server sends for one turn: status, headers, body parts and faults.

Planning is separate from the socket work so that every fault is a plain value: the server
only sleeps, writes parts and, for a cut stream, hangs up.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from glmcode.testing.replies import build_reply, encode_json
from glmcode.testing.response import response_body
from glmcode.testing.script import TurnDict
from glmcode.testing.sse import DONE, content_events, error_event, malformed_event, stream_events

JSON_TYPE = "application/json; charset=UTF-8"
SSE_TYPE = "text/event-stream; charset=utf-8"


@dataclass(frozen=True)
class Answer:
    """`parts` are SSE events when `streamed` (sent as HTTP chunks), else one whole body.
    `cut_after` counts events of a stream, bytes of a whole body."""

    status: int
    content_type: str
    parts: tuple[bytes, ...]
    streamed: bool = False
    retry_after: str | None = None
    delay: float = 0.0
    first_byte_delay: float = 0.0
    cut_after: int | None = None


def error_answer(
    status: int, code: str, message: str, retry_after: float | None = None, **timing: float
) -> Answer:
    return Answer(
        status=status,
        content_type=JSON_TYPE,
        parts=(_error_body(code, message),),
        retry_after=None if retry_after is None else _seconds_text(retry_after),
        **timing,
    )


def plan_answer(turn: TurnDict, body: dict, body_size: int, cached_chars: int) -> Answer:
    """The answer to `body` from a checked turn. File paths are read now, so a missing
    recording fails this request rather than the whole server."""
    timing = {
        "delay": turn.get("delay", 0.0),
        "first_byte_delay": turn.get("first_byte_delay", 0.0),
    }
    error = turn.get("error")
    if error is not None:
        status = error.get("status", 500)
        return error_answer(
            status,
            str(error.get("code", status)),
            error.get("message", "fake GLM: scripted error"),
            error.get("retry_after"),
            **timing,
        )
    cut_after = turn.get("cut_after")
    malformed_at = turn.get("malformed_at")
    if "response_file" in turn:
        whole = Path(turn["response_file"]).read_bytes()
        return _whole(whole, malformed_at, cut_after, timing)
    if "sse_file" in turn:
        events = _split_events(Path(turn["sse_file"]).read_bytes())
        if malformed_at is not None:
            events.insert(min(malformed_at, len(events)), b"data: {\n\n")
        return _stream(events, cut_after, timing)

    reply = build_reply(turn, body, body_size, cached_chars)
    stream_error = turn.get("stream_error")
    if body.get("stream"):
        tool_stream = bool(body.get("tool_stream"))
        if stream_error is None:
            events = stream_events(reply, tool_stream)
        else:
            events = content_events(reply, tool_stream)
            events.append(error_event(*_error_fields(stream_error)))
        if malformed_at is not None:
            events.insert(min(malformed_at, len(events)), malformed_event(reply))
        return _stream(events, cut_after, timing)
    if stream_error is None:
        whole = response_body(reply)
    else:
        whole = _error_body(*_error_fields(stream_error))
    return _whole(whole, malformed_at, cut_after, timing)


def _stream(events: list[bytes], cut_after: int | None, timing: dict) -> Answer:
    if cut_after is not None and events and events[-1] == DONE:
        # A cut stream must never have delivered [DONE], whatever N says.
        cut_after = min(cut_after, len(events) - 1)
    return Answer(200, SSE_TYPE, tuple(events), streamed=True, cut_after=cut_after, **timing)


def _whole(body: bytes, malformed_at: int | None, cut_after: int | None, timing: dict) -> Answer:
    if malformed_at is not None:
        body = body[: len(body) // 2]
    if cut_after is not None:
        cut_after = min(cut_after, max(len(body) - 1, 0))
    return Answer(200, JSON_TYPE, (body,), cut_after=cut_after, **timing)


def _split_events(data: bytes) -> list[bytes]:
    """Events of a recorded body with their blank-line separators, so they join back to it."""
    pieces = data.split(b"\n\n")
    events = [piece + b"\n\n" for piece in pieces[:-1]]
    if pieces[-1]:
        events.append(pieces[-1])
    return events


def _error_body(code: str, message: str) -> bytes:
    return encode_json({"error": {"code": code, "message": message}}).encode()


def _error_fields(error: dict) -> tuple[str, str]:
    return str(error.get("code", "500")), error.get("message", "fake GLM: scripted stream error")


def _seconds_text(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else str(seconds)
