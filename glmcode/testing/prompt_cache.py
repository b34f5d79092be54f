"""A stand-in for GLM's implicit prompt cache.

GLM reports the part of a prompt it has seen before as `cached_tokens`. The fake server
approximates it as the common prefix of this request's tools and messages with the previous
answered request's, so a client that keeps its prompt byte-stable and only appends sees high
cache counts, and one that reorders or rewrites history sees them drop.
"""

from __future__ import annotations

import json
import threading

_BLOCK = 4096


class PromptCache:
    def __init__(self) -> None:
        self._previous = ""
        self._lock = threading.Lock()

    def observe(self, body: dict) -> int:
        """Characters of this request's prompt shared with the previous one; remembers this
        prompt for the next call."""
        prompt = prompt_text(body)
        with self._lock:
            shared = common_prefix_length(self._previous, prompt)
            self._previous = prompt
        return shared


def prompt_text(body: dict) -> str:
    """The prompt as the model sees it, tools first (GLM renders them into the system part)."""
    return json.dumps(
        [body.get("tools") or [], body.get("messages") or []],
        ensure_ascii=False,
        separators=(",", ":"),
    )


def common_prefix_length(a: str, b: str) -> int:
    limit = min(len(a), len(b))
    start = 0
    # Compare whole blocks first: slicing and == run in C, a character loop would not.
    while start + _BLOCK <= limit and a[start : start + _BLOCK] == b[start : start + _BLOCK]:
        start += _BLOCK
    end = min(start + _BLOCK, limit)
    while start < end and a[start] == b[start]:
        start += 1
    return start
