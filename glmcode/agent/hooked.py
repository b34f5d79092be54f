"""The hooks around one tool call, as the tool runner asks for them: before it (a hook may
refuse the call, ask for it, or allow one the mode would ask about) and after it (a hook's
complaint goes to the model with the result)."""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import replace
from typing import Any

from glmcode.events import Event
from glmcode.hooks.engine import Hooks
from glmcode.permissions.modes import Verdict
from glmcode.tools.base import ToolResult


def before_call(hooks: Hooks, tool: str, args: dict[str, Any], verdict: Verdict) -> Generator[Event, None, Verdict]:
    """The policy's verdict with the hooks' say: a hook may refuse or ask for any call, and
    allow one the policy would ask about, never one it denies (the caller has refused those)."""
    said = yield from hooks.pre_tool_use(tool, args)
    if said.decision == "deny":
        reason = said.reason or "(no reason given)"
        return Verdict("deny", f"a pre_tool_use hook blocked this call: {reason}")
    if said.decision == "ask":
        return Verdict("ask", f"a hook asks: {said.reason}" if said.reason else "a hook asks for approval")
    if said.decision == "allow" and verdict.decision == "ask":
        return Verdict("allow", said.reason or "allowed by a hook")
    return verdict


def after_call(hooks: Hooks, tool: str, args: dict[str, Any], result: ToolResult) -> Generator[Event, None, ToolResult]:
    feedback = yield from hooks.post_tool_use(tool, args, result.output, result.is_error)
    if not feedback:
        return result
    return replace(result, model_output=f"{result.for_model}\n\n{feedback}")
