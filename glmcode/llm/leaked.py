"""Tool calls GLM wrote as text instead of sending as structured calls.

GLM's native format for a call is
`<tool_call>NAME<arg_key>K</arg_key><arg_value>V</arg_value>...</tool_call>`. Now and then
that text ends up in `content` (or its pieces inside a tool's *name*) rather than being turned
into a structured call by the server. Recovering it here saves a turn in which the model would
only be told that it wrote a call nobody ran.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import replace
from typing import Any

from glmcode.events import ToolCall
from glmcode.llm.types import ModelReply

OPEN = "<tool_call>"
ARG_KEY = "<arg_key>"

_BLOCK = re.compile(r"<tool_call>(.*?)</tool_call>", re.DOTALL)
_PAIR = re.compile(r"\s*<arg_key>(.*?)</arg_key>\s*<arg_value>(.*?)</arg_value>", re.DOTALL)
_THINK = re.compile(r"<think>(.*?)</think>", re.DOTALL)


def _reject_constant(name: str) -> Any:
    raise ValueError(name)


def _argument_value(text: str) -> Any:
    """A value that reads as JSON other than a plain string (a number, a list, true...) is
    used as that JSON; anything else is the raw text, verbatim."""
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except ValueError:
        return text
    if isinstance(value, str) or (isinstance(value, float) and not math.isfinite(value)):
        return text
    return value


def _arguments_json(pairs: list[tuple[str, str]]) -> str:
    return json.dumps({k: _argument_value(v) for k, v in pairs}, ensure_ascii=False)


def _parse_pairs(text: str) -> list[tuple[str, str]] | None:
    """The key/value pairs that make up all of `text`, or None if anything else is there."""
    pairs: list[tuple[str, str]] = []
    pos = 0
    while True:
        match = _PAIR.match(text, pos)
        if match is None:
            break
        pairs.append((match.group(1).strip(), match.group(2)))
        pos = match.end()
    if text[pos:].strip():
        return None
    return pairs


def _parse_block(inner: str) -> tuple[str, list[tuple[str, str]]] | None:
    cut = inner.find(ARG_KEY)
    name = (inner if cut < 0 else inner[:cut]).strip()
    if not name or "<" in name or ">" in name or any(c.isspace() for c in name):
        return None
    pairs = [] if cut < 0 else _parse_pairs(inner[cut:])
    if pairs is None:
        return None
    return name, pairs


def new_call_id() -> str:
    return "call_" + os.urandom(12).hex()


def _split_thinking(text: str) -> tuple[str, str]:
    """(reasoning, rest) for text that opens with GLM's own thinking markup: either a whole
    `<think>...</think>` or, since the template opens the tag itself, only the closing one."""
    match = _THINK.search(text)
    if match:
        return match.group(1).strip(), text[: match.start()] + text[match.end() :]
    end = text.find("</think>")
    if end >= 0 and "<think>" not in text:
        return text[:end].strip(), text[end + len("</think>") :]
    return "", text


def recover_leaked_calls(reply: ModelReply, known_tools: frozenset[str] | None) -> ModelReply:
    """`reply` with tool calls written into its content turned into real calls.

    Only a reply that stopped normally (`stop`), has no structured calls, and holds at least
    one complete, well-formed block for a known tool (any name, if `known_tools` is None)
    changes. Blocks that do not parse, or name an unknown tool, stay in the content.
    """
    content = reply.content
    if reply.finish_reason != "stop" or reply.tool_calls or OPEN not in content:
        return reply
    calls: list[ToolCall] = []
    kept: list[str] = []
    pos = 0
    for match in _BLOCK.finditer(content):
        parsed = _parse_block(match.group(1))
        if parsed is None or (known_tools is not None and parsed[0] not in known_tools):
            continue
        name, pairs = parsed
        kept.append(content[pos : match.start()])
        pos = match.end()
        calls.append(ToolCall(new_call_id(), name, _arguments_json(pairs), len(calls)))
    if not calls:
        return reply
    kept.append(content[pos:])
    thinking, rest = _split_thinking("".join(kept))
    reasoning = reply.reasoning
    if thinking:
        reasoning = f"{reasoning}\n{thinking}" if reasoning else thinking
    return replace(
        reply,
        content=rest.strip(),
        reasoning=reasoning,
        tool_calls=tuple(calls),
        finish_reason="tool_calls",
    )


def clean_tool_name(name: str, arguments: str) -> tuple[str, str]:
    """(name, arguments) for a structured call whose name carries native-format junk, such as
    `read_file<arg_key>path</arg_key><arg_value>a.py</arg_value>`: the clean name, and the
    arguments recovered from the junk when the real ones came empty."""
    if "<" not in name:
        return name.strip(), arguments
    bare = name.strip()
    if bare.startswith(OPEN):
        bare = bare[len(OPEN) :]
    cut = bare.find("<")
    clean = (bare if cut < 0 else bare[:cut]).strip()
    if not clean:
        return name, arguments
    junk = bare[cut:] if cut >= 0 else ""
    if arguments.strip() in ("", "{}") and ARG_KEY in junk:
        pairs = _PAIR.findall(junk)
        if pairs:
            arguments = _arguments_json([(k.strip(), v) for k, v in pairs])
    return clean, arguments
