"""Making a long conversation fit the context window again.

Older turns are summarised by the model in a separate request without tools, into a summary
with fixed sections (goal, decisions, files touched, open work). The system prompt, the latest
user request and the latest turns stay word for word. The summary request always fits: tool
results in it are cut shorter and shorter, and if that is not enough the oldest messages are
left out with a note. When the window fills within one request (one prompt, many tool calls),
that request's own steps are what gets summarised: long tool results are cut first, and when
that is not enough the steps so far are summarised too, the request itself kept word for word.
Only a conversation with nothing at all to cut stays as it is.
"""

from __future__ import annotations

import json
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from glmcode.agent.tool_images import is_images_message
from glmcode.events import Event, Retrying, TokenUsage
from glmcode.llm.content import content_text, has_images, is_image_part, without_images
from glmcode.llm.types import ModelReply

SUMMARY_HEADER = "[Summary of the earlier conversation, which was compacted to fit the context window]"
PROMPT_FILE = Path(__file__).with_name("compaction_prompt.md")
# Tokens are estimated from characters, on the safe side for code and English (GLM's tokenizer
# averages nearer 4); the agent lowers it when the API counts more (Chinese text: nearer 1.3).
CHARS_PER_TOKEN = 3.0
# What an image weighs in the estimate: a screenshot costs GLM's vision models about a
# thousand tokens or more, its base64 far more characters than that.
IMAGE_CHARS = 6000
KEEP_TURNS = 3  # the latest model turns kept word for word, if they fit in KEEP_SHARE
KEEP_SHARE = 0.25
TARGET_SHARE = 0.5  # the most the conversation may fill afterwards
SUMMARY_TOOL_CAPS = (4000, 1000, 200)  # characters of each tool result shown to the summariser
KEPT_TOOL_CAPS = (8000, 2000, 400)  # characters of each kept tool result, when they must be cut
PROMPT_CONTEXT_CHARS = 4000
ATTEMPTS = 3


class ModelClient(Protocol):
    def stream(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None) -> Any: ...


class CompactionError(Exception):
    """The conversation cannot be made smaller; the message says why."""


@dataclass(frozen=True)
class Compaction:
    """The conversation after compaction (system prompt first) and what was done to it."""

    messages: list[dict[str, Any]]
    summary: str
    before: int
    after: int
    summarised: int  # messages replaced by the summary
    left_out: int  # of those, messages the summariser did not see (they did not fit)
    trimmed: int  # tool results in the kept turns that were cut
    prompt_index: int | None  # where the latest user request is now
    usage: TokenUsage = field(default_factory=TokenUsage)
    within_request: bool = False  # only the latest request's own steps were summarised or cut


def is_summary(message: dict[str, Any]) -> bool:
    return message.get("role") == "user" and str(message.get("content") or "").startswith(SUMMARY_HEADER)


def conversation_chars(messages: Sequence[dict[str, Any]], tools: list[dict[str, Any]] | None = None) -> int:
    chars = sum(message_chars(m) for m in messages)
    return chars + (len(json.dumps(tools, ensure_ascii=False)) if tools else 0)


def message_chars(message: dict[str, Any]) -> int:
    content = message.get("content")
    size = len(content_text(content)) + len(str(message.get("reasoning_content") or ""))
    if isinstance(content, list):
        size += IMAGE_CHARS * sum(1 for part in content if is_image_part(part))
    for call in message.get("tool_calls") or ():
        function = call.get("function") or {}
        size += len(str(function.get("name") or "")) + len(str(function.get("arguments") or "")) + 40
    return size + 16


def estimate_tokens(
    messages: Sequence[dict[str, Any]],
    tools: list[dict[str, Any]] | None = None,
    chars_per_token: float = CHARS_PER_TOKEN,
) -> int:
    return int(conversation_chars(messages, tools) / chars_per_token)


def is_prompt(message: dict[str, Any]) -> bool:
    """A request of the user's: not the summary, nor the images a step's tools returned."""
    return message.get("role") == "user" and not is_summary(message) and not is_images_message(message)


def latest_prompt(messages: Sequence[dict[str, Any]]) -> int | None:
    for i in range(len(messages) - 1, 0, -1):
        if is_prompt(messages[i]):
            return i
    return None


def compact(
    client: ModelClient,
    messages: list[dict[str, Any]],
    tools: list[dict[str, Any]] | None,
    *,
    context_window: int,
    max_output: int,
    before: int | None = None,
    focus: str = "",
    chars_per_token: float = CHARS_PER_TOKEN,
) -> Generator[Event, None, Compaction]:
    """Yields the summary request's Retrying events; returns the compacted conversation.
    Raises CompactionError when nothing can be made smaller, and the client's GLMError when
    the summary request fails. `chars_per_token` is how many characters make a token in
    this conversation, as far as the agent has measured it."""
    cpt = chars_per_token
    before = estimate_tokens(messages, tools, cpt) if before is None else before
    prompt = latest_prompt(messages)
    cut = _cut(messages, prompt, context_window, cpt)
    region = [i for i in range(1, cut) if i != prompt]
    within = prompt is not None and all(i > prompt or is_summary(messages[i]) for i in region)
    if region and within:
        # The window filled within the latest request: its older steps' long results go first.
        cheap = _trimmed_only(messages, tools, prompt, context_window, before, cpt, end=cut, caps=KEPT_TOOL_CAPS[:1])
        if cheap is not None and cheap.after <= TARGET_SHARE * context_window:
            return cheap
    if not region:
        trimmed_only = _trimmed_only(messages, tools, prompt, context_window, before, cpt)
        steps = 0 if prompt is None else len(messages) - prompt - 1
        if trimmed_only is not None and (trimmed_only.after <= TARGET_SHARE * context_window or not steps):
            return trimmed_only
        if not steps:
            raise CompactionError(
                "there is nothing older than the latest request to summarise, and nothing in it to cut"
            )
        # At most one step so far, yet the window is full: that step is summarised as well.
        cut = len(messages)
        region = list(range(prompt + 1, cut))  # type: ignore[operator]
    summary, left_out, usage = yield from _summarise(
        client, [messages[i] for i in region], messages[prompt] if prompt is not None else None,
        context_window=context_window, max_output=max_output, focus=focus, chars_per_token=cpt,
    )
    note = f"\n\n(The {left_out} oldest messages did not fit in the summary request and are left out.)" if left_out else ""
    new = [messages[0], {"role": "user", "content": f"{SUMMARY_HEADER}\n\n{summary}{note}"}]
    if prompt is not None and prompt < cut:
        new.append(messages[prompt])
        prompt_index: int | None = len(new) - 1
    else:
        prompt_index = None if prompt is None else len(new) + prompt - cut
    tail_start = len(new)
    new.extend(messages[cut:])
    trimmed = _fit(new, tail_start, tools, context_window, cpt)
    return Compaction(
        new, summary, before, _after(before, messages, new, cpt, tools), len(region), left_out, trimmed, prompt_index, usage,
        within,
    )


def _after(
    before: int, old: list[dict[str, Any]], new: list[dict[str, Any]], cpt: float, tools: list[dict[str, Any]] | None
) -> int:
    """The new size, measured from the old one (which may come from the API's own count), and
    never more than the whole new conversation is estimated at: a count the characters cannot
    explain is not carried over as if the compaction had kept it."""
    shifted = before - estimate_tokens(old[1:], None, cpt) + estimate_tokens(new[1:], None, cpt)
    return max(0, min(shifted, estimate_tokens(new, tools, cpt)))


def _cut(messages: list[dict[str, Any]], prompt: int | None, window: int, cpt: float) -> int:
    """Where the kept turns begin: at the KEEP_TURNS-th last model turn, later if those do not
    fit in KEEP_SHARE of the window, and at the last one if nothing older would be left."""
    n = len(messages)
    starts = [i for i in range(1, n) if messages[i].get("role") == "assistant"]
    if not starts:
        return n
    keep_chars = int(KEEP_SHARE * window * cpt)
    suffix = [0] * (n + 1)
    for i in range(n - 1, -1, -1):
        suffix[i] = suffix[i + 1] + message_chars(messages[i])
    for keep in (KEEP_TURNS, 1):
        candidates = starts[-keep:]
        cut = next((c for c in candidates if suffix[c] <= keep_chars), candidates[-1])
        if messages[cut - 1].get("role") == "user" and not is_summary(messages[cut - 1]):
            cut -= 1  # a turn stays with the request it answers
        if any(i != prompt for i in range(1, cut)):
            return cut
    return starts[-1]


def _summarise(
    client: ModelClient,
    old: list[dict[str, Any]],
    prompt: dict[str, Any] | None,
    *,
    context_window: int,
    max_output: int,
    focus: str,
    chars_per_token: float,
) -> Generator[Event, None, tuple[str, int, TokenUsage]]:
    from glmcode.llm.errors import ContextTooLongError

    instructions = PROMPT_FILE.read_text(encoding="utf-8").strip()
    reserve = min(max_output, context_window // 4)
    budget = int((context_window - reserve - len(instructions) / chars_per_token - 1024) * chars_per_token)
    names = _tool_names(old)
    for _ in range(ATTEMPTS):
        transcript, left_out = _transcript(old, names, max(budget, 4000))
        request = [
            {"role": "system", "content": instructions},
            {"role": "user", "content": _request_text(transcript, prompt, focus)},
        ]
        try:
            reply = yield from _ask(client, request)
        except ContextTooLongError:
            budget //= 2
            continue
        summary = reply.content.strip()
        if not summary:
            raise CompactionError("the model wrote an empty summary")
        return summary, left_out, reply.usage
    raise CompactionError("even a shortened summary request did not fit the context window")


def _ask(client: ModelClient, request: list[dict[str, Any]]) -> Generator[Event, None, ModelReply]:
    stream = client.stream(request, None)
    try:
        for item in stream:
            if isinstance(item, ModelReply):
                return item
            if isinstance(item, Retrying):
                yield item
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()
    raise CompactionError("the summary request ended without a reply")


def _request_text(transcript: str, prompt: dict[str, Any] | None, focus: str) -> str:
    parts = [f"<transcript>\n{transcript}\n</transcript>"]
    if prompt is not None:
        text = _cut_text(content_text(prompt.get("content")), PROMPT_CONTEXT_CHARS)
        parts.append(
            "The user's latest request, which stays in the conversation word for word after your "
            f"summary (for context; do not repeat it):\n<latest_request>\n{text}\n</latest_request>"
        )
    if focus.strip():
        parts.append(f"The user asks the summary to focus on: {focus.strip()}")
    parts.append("Write the summary now.")
    return "\n\n".join(parts)


def _tool_names(messages: list[dict[str, Any]]) -> dict[str, str]:
    names = {}
    for m in messages:
        for call in m.get("tool_calls") or ():
            names[str(call.get("id"))] = str((call.get("function") or {}).get("name") or "tool")
    return names


def _transcript(old: list[dict[str, Any]], names: dict[str, str], budget: int) -> tuple[str, int]:
    """The old messages as text within `budget` characters, and how many had to be left out."""
    for cap in SUMMARY_TOOL_CAPS:
        entries = [_entry(m, names, cap) for m in old]
        if sum(len(e) for e in entries) <= budget:
            return "\n\n".join(entries), 0
    total = sum(len(e) for e in entries)
    first = 0
    while first < len(entries) - 1 and total > budget:
        total -= len(entries[first])
        first += 1
    kept = entries[first:]
    if total > budget:
        kept = [_cut_text(kept[-1], budget)]
    return "\n\n".join([f"[{first} older messages left out]", *kept] if first else kept), first


def _entry(message: dict[str, Any], names: dict[str, str], tool_cap: int) -> str:
    role = message.get("role")
    content = content_text(message.get("content"))
    if role == "tool":
        name = names.get(str(message.get("tool_call_id")), "tool")
        return f"### Result of {name}\n{_cut_text(content, tool_cap)}"
    if role == "assistant":
        lines = [f"### Assistant\n{_cut_text(content, tool_cap * 2)}" if content.strip() else "### Assistant"]
        for call in message.get("tool_calls") or ():
            function = call.get("function") or {}
            arguments = _cut_text(str(function.get("arguments") or ""), tool_cap)
            lines.append(f"-> {function.get('name', '?')} {arguments}")
        return "\n".join(lines)
    return f"### User\n{content}"


def _cut_text(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    from glmcode.tools.truncate import head_tail

    return head_tail(text, max_chars=limit)


def _fit(
    messages: list[dict[str, Any]],
    start: int,
    tools: list[dict[str, Any]] | None,
    window: int,
    cpt: float,
    size: int | None = None,
    end: int | None = None,
    caps: tuple[int, ...] = KEPT_TOOL_CAPS,
) -> int:
    """Drops the images of messages from `start` to `end` (but the latest request's), then cuts
    tool results there, oldest first, to each of `caps` in turn, until the conversation (of `size` tokens, estimated when not given) fits in TARGET_SHARE
    of the window; how many were cut."""
    target = int(TARGET_SHARE * window)
    size = estimate_tokens(messages, tools, cpt) if size is None else size
    trimmed: set[int] = set()
    # Old images go before old text: each weighs more than most results, and what they showed
    # is in the words around them. The latest request keeps its own.
    keep = latest_prompt(messages)
    for i in range(start, len(messages) if end is None else end):
        if size > target and i != keep and has_images(messages[i]):
            before = message_chars(messages[i])
            messages[i] = without_images(messages[i])
            size -= int((before - message_chars(messages[i])) / cpt)
            trimmed.add(i)
    for cap in caps:
        for i in range(start, len(messages) if end is None else end):
            if size <= target:
                return len(trimmed)
            m = messages[i]
            content = str(m.get("content") or "")
            if m.get("role") == "tool" and len(content) > cap:
                shorter = _cut_text(content, cap)
                messages[i] = {**m, "content": shorter}
                size -= int((len(content) - len(shorter)) / cpt)
                trimmed.add(i)
    return len(trimmed)


def _trimmed_only(
    messages: list[dict[str, Any]],
    tools: list[dict[str, Any]] | None,
    prompt: int | None,
    window: int,
    before: int,
    cpt: float,
    end: int | None = None,
    caps: tuple[int, ...] = KEPT_TOOL_CAPS,
) -> Compaction | None:
    """The conversation with long tool results cut, oldest first; None when none is long."""
    new = list(messages)
    trimmed = _fit(new, 1, tools, window, cpt, before, end, caps)
    if not trimmed:
        return None
    return Compaction(new, "", before, _after(before, messages, new, cpt, tools), 0, 0, trimmed, prompt, within_request=True)


def describe_compaction(result: Compaction) -> str:
    """What the user is told after a compaction."""
    size = f"{result.before:,} → {result.after:,} tokens (estimated)"
    if not result.summarised:
        return f"Cut {result.trimmed} long tool result(s) to fit the context window, keeping their start and end: {size}."
    if result.within_request:
        return (
            f"Compacted within the request: {result.summarised} messages of its tool calls and results so far "
            f"were replaced by a summary of what was done, found and decided; your request is kept word for word. {size}."
        )
    text = (
        f"Compacted the conversation: {result.summarised} older messages were replaced by a summary "
        "(goal, decisions, files touched, open work); the system prompt, your latest request and the "
        f"latest turns are kept word for word. {size}."
    )
    if result.left_out:
        text += f" The {result.left_out} oldest messages did not fit in the summary request and were left out."
    if result.trimmed:
        text += f" {result.trimmed} long tool result(s) in the kept turns were cut."
    return text
