"""Approvals answered in the editor through `session/request_permission`.

The editor is offered: allow once; always (the rule the terminal's `p` answer saves to the
project's `.glmcode/config.toml`, or, when no rule could allow the call, the tool for the rest
of the session, as the terminal's `a`); and reject. A cancelled turn, or an editor that
goes away while it asks, ends the run as Ctrl-C does in the terminal.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from acp import schema

from glmcode.acp import updates
from glmcode.acp.bridge import Cancelled
from glmcode.agent.tool_calls import ApprovalAnswer, ApprovalRequest
from glmcode.tools.base import ToolContext

ALLOW_ONCE = "allow_once"
ALLOW_ALWAYS = "allow_always"
REJECT = "reject_once"


def options(request: ApprovalRequest) -> list[schema.PermissionOption]:
    rule = request.suggested_rule
    always = (
        f"Always allow {rule} in this project" if rule is not None
        else f"Always allow {request.tool} in this session"
    )
    return [
        schema.PermissionOption(option_id=ALLOW_ONCE, name="Allow once", kind="allow_once"),
        schema.PermissionOption(option_id=ALLOW_ALWAYS, name=always, kind="allow_always"),
        schema.PermissionOption(option_id=REJECT, name="Reject", kind="reject_once"),
    ]


def tool_call(request: ApprovalRequest, ctx: ToolContext) -> schema.ToolCallUpdate:
    """The call as the question shows it: its title, why it asks, and what it would do."""
    if request.kind == "shell":
        shown = updates.fenced(request.preview or str(request.args.get("command", "")), "sh")
    elif request.preview.startswith(("---", "diff ", "@@")) or "\n@@ " in request.preview:
        shown = updates.fenced(request.preview, "diff")
    else:
        shown = updates.fenced(request.preview) if request.preview else ""
    text = f"{request.reason}\n\n{shown}" if shown else request.reason
    return schema.ToolCallUpdate(
        tool_call_id=request.call_id,
        title=updates.title(request.tool, request.args),
        kind=updates.acp_kind(request.tool, request.kind),  # type: ignore[arg-type]
        status="pending",
        content=[schema.ContentToolCallContent(type="content", content=updates.text_block(text))],
        locations=updates.locations(request.tool, request.args, ctx),
        raw_input=request.args,
    )


class EditorApprover:
    """glmcode's Approver, asking the editor of `session` (set once the session exists).
    `save_rule` saves a rule to the project's config and says what came of it."""

    def __init__(self, save_rule: Callable[[str], str]) -> None:
        self.save_rule = save_rule
        self.session: Any = None

    def __call__(self, request: ApprovalRequest) -> ApprovalAnswer:
        session = self.session
        question = tool_call(request, session.ctx)
        try:
            response = session.bridge.call(
                lambda: session.conn.request_permission(
                    session_id=session.id, tool_call=question, options=options(request)
                )
            )
        except Cancelled:
            raise session.bridge.interrupt() from None  # the turn ends here, cleanly, as on Ctrl-C
        outcome = response.outcome
        if isinstance(outcome, schema.DeniedOutcome):  # the editor's own cancel
            raise session.bridge.interrupt()
        if outcome.option_id not in (ALLOW_ONCE, ALLOW_ALWAYS):
            return ApprovalAnswer("no")
        session.in_progress(request.call_id)
        if outcome.option_id == ALLOW_ONCE:
            return ApprovalAnswer("yes")
        if request.suggested_rule is None:
            return ApprovalAnswer("always")
        session.tell(self.save_rule(request.suggested_rule))
        return ApprovalAnswer("always_rule")
