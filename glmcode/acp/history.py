"""A saved conversation told again as session updates, so an editor that loads a session
shows what was said and done in it: prompts, answers, reasoning, and each tool call with its
result."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from acp import schema

from glmcode.acp import updates
from glmcode.tools.base import ToolContext


def history_updates(messages: Sequence[dict[str, Any]], ctx: ToolContext, kinds: dict[str, str]) -> Iterator[Any]:
    """`messages` as the agent holds them (the system prompt first, skipped); `kinds` maps a
    tool name to glmcode's kind of tool."""
    for message in messages:
        role = message.get("role")
        content = message.get("content")
        text = content if isinstance(content, str) else ""
        if role == "user" and text:
            yield updates.user_chunk(text)
        elif role == "assistant":
            reasoning = message.get("reasoning_content")
            if isinstance(reasoning, str) and reasoning:
                yield updates.thought_chunk(reasoning)
            if text:
                yield updates.message_chunk(text)
            yield from _calls(message.get("tool_calls"), ctx, kinds)
        elif role == "tool" and isinstance(message.get("tool_call_id"), str):
            failed = text.startswith("Error") or text.startswith("Not run")
            shown = text if len(text) <= updates.OUTPUT_CHARS else text[: updates.OUTPUT_CHARS] + "\n…"
            yield schema.ToolCallProgress(
                session_update="tool_call_update",
                tool_call_id=message["tool_call_id"],
                status="failed" if failed else "completed",
                content=[schema.ContentToolCallContent(type="content", content=updates.text_block(updates.fenced(shown)))]
                if shown.strip() else None,
            )


def _calls(calls: Any, ctx: ToolContext, kinds: dict[str, str]) -> Iterator[Any]:
    if not isinstance(calls, list):
        return
    for call in calls:
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict) or not isinstance(call.get("id"), str):
            continue
        name = str(function.get("name", ""))
        try:
            args = json.loads(function.get("arguments") or "{}")
        except (TypeError, ValueError):
            args = function.get("arguments")
        yield schema.ToolCallStart(
            session_update="tool_call",
            tool_call_id=call["id"],
            title=updates.title(name, args),
            kind=updates.acp_kind(name, kinds.get(name)),  # type: ignore[arg-type]
            status="in_progress",
            locations=updates.locations(name, args, ctx),
            raw_input=args,
        )
