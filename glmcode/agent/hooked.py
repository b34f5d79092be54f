"""A run with hooks around it: the prompt's hooks before anything is sent (they may stop it, or
add context to it), the stop hooks once it ends, before its RunFinished; and the tool hooks
around each call (`before_call`, `after_call`, used by the tool runner)."""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from typing import Any

from glmcode.events import Error, Event, RunFinished
from glmcode.hooks.engine import Hooks
from glmcode.permissions.modes import Verdict
from glmcode.tools.base import ToolResult


def hooked_run(hooks: Hooks, prompt: str, run: Callable[[str], Iterator[Event]]) -> Iterator[Event]:
    try:
        verdict = yield from hooks.prompt_submit(prompt)
    except KeyboardInterrupt:
        yield RunFinished("interrupted", "", 0)
        return
    if verdict.blocked is not None:
        yield Error("hook", f"A user_prompt_submit hook stopped the prompt: {verdict.blocked}", "Nothing was sent to the model.")
        yield RunFinished("error", "", 0)
        return
    message = prompt if not verdict.context else "\n\n".join([prompt, *verdict.context])
    inner = run(message)
    advance: Callable[[], Event] = lambda: next(inner)
    while True:
        try:
            event = advance()
        except StopIteration:
            return
        if isinstance(event, RunFinished):
            try:
                yield from hooks.stop(event.status, event.result)
            except KeyboardInterrupt:
                pass  # the run is over either way; it still ends as it ended
        try:
            yield event
            advance = lambda: next(inner)
        except KeyboardInterrupt:
            # Passed on, so the run in progress closes its turn as it would without hooks.
            advance = lambda: inner.throw(KeyboardInterrupt())


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
    return ToolResult(
        result.output, result.is_error, f"{result.for_model}\n\n{feedback}", result.diff, result.data
    )
