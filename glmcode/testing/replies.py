"""A turn resolved against the request it answers: every id, piece and token count fixed.

Both the streamed and the whole-response encoders work from a `Reply`, so the two shapes always
tell the same story.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import dataclass

from glmcode.testing.script import TurnDict

DEFAULT_MODEL = "glm-4.6"

# A word with the whitespace before it, like GLM's tokens (" user", "\n\nFor"); trailing
# whitespace stays a piece of its own.
_WORD = re.compile(r"\s*\S+|\s+")
# Argument fragments for tool_stream: runs of word characters or of punctuation.
_FRAGMENT = re.compile(r"\s*\w+|\s*[^\w\s]+|\s+")


@dataclass(frozen=True)
class Call:
    id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class Reply:
    id: str
    created: int
    model: str
    reasoning: tuple[str, ...]
    content: tuple[str, ...]
    tool_calls: tuple[Call, ...]
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int
    request_id: str

    @property
    def usage(self) -> dict:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.prompt_tokens + self.completion_tokens,
            "prompt_tokens_details": {"cached_tokens": self.cached_tokens},
        }


def split_text(text: str) -> list[str]:
    """Token-like pieces: a leading newline alone, then each word with its leading space."""
    if not text:
        return []
    pieces = []
    if text.startswith("\n"):
        pieces.append("\n")
        text = text[1:]
    pieces.extend(_WORD.findall(text))
    return pieces


def split_arguments(arguments: str) -> list[str]:
    return _FRAGMENT.findall(arguments)


def completion_id() -> str:
    """Like GLM's: a 14-digit local timestamp followed by 16 hex digits."""
    return time.strftime("%Y%m%d%H%M%S") + secrets.token_hex(8)


def call_id() -> str:
    return "call_" + secrets.token_hex(12)


def encode_json(value: object) -> str:
    """Compact JSON with raw UTF-8, the way GLM writes it."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def build_reply(turn: TurnDict, body: dict, body_size: int, cached_chars: int) -> Reply:
    """Fix everything the turn leaves open, estimating usage about as GLM would count it
    (four characters to a token)."""
    reasoning = _pieces(turn.get("reasoning"))
    content = _pieces(turn.get("content"))
    calls = tuple(
        Call(
            id=c.get("id") or call_id(),
            name=c["name"],
            arguments=a if isinstance(a := c.get("arguments", {}), str) else encode_json(a),
        )
        for c in turn.get("tool_calls") or ()
    )
    streamed = sum(map(len, reasoning)) + sum(map(len, content))
    streamed += sum(len(c.arguments) for c in calls)
    usage = turn.get("usage") or {}
    prompt = usage.get("prompt_tokens", body_size // 4)
    reply_id = turn.get("id") or completion_id()
    request_id = body.get("request_id")
    return Reply(
        id=reply_id,
        created=turn.get("created", int(time.time())),
        model=turn.get("model") or body.get("model") or DEFAULT_MODEL,
        reasoning=reasoning,
        content=content,
        tool_calls=calls,
        finish_reason=turn.get("finish_reason") or ("tool_calls" if calls else "stop"),
        prompt_tokens=prompt,
        completion_tokens=usage.get("completion_tokens", streamed // 4),
        cached_tokens=usage.get("cached_tokens", min(prompt, cached_chars // 4)),
        request_id=request_id if isinstance(request_id, str) else reply_id,
    )


def _pieces(text: str | list[str] | None) -> tuple[str, ...]:
    if text is None:
        return ()
    if isinstance(text, str):
        return tuple(split_text(text))
    return tuple(text)
