"""Turning the model's tool calls into results: parse, check, ask, run.

Whatever goes wrong here becomes a result the model can read; nothing but an interrupt
escapes to end the loop.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

from glmcode.agent.tool_images import Returned, settle
from glmcode.events import ApprovalNeeded, Event, Notice, ToolCall, ToolCallFinished, ToolCallStarted
from glmcode.llm.errors import redact
from glmcode.llm.types import ModelReply
from glmcode.permissions.policy import Policy, suggest_rule
from glmcode.permissions.targets import names_inward_host
from glmcode.tools.base import Tool, ToolContext, ToolError, ToolResult
from glmcode.tools.registry import Registry

if TYPE_CHECKING:
    from glmcode.hooks.engine import Hooks
    from glmcode.sandbox.deferred import DeferredSandbox


@dataclass(frozen=True)
class ApprovalRequest:
    call_id: str
    tool: str
    kind: str
    args: dict[str, Any]
    preview: str
    reason: str
    suggested_rule: str | None  # None: no rule could allow this call
    once: bool = False  # only yes or no: the question is about this one run


@dataclass(frozen=True)
class ApprovalAnswer:
    """`decision`: "yes", "no", "always" (this tool for the session) or "always_rule"
    (the suggested rule, for the session; a frontend may also save it)."""

    decision: str
    reason: str = ""


class Approver(Protocol):
    def __call__(self, request: ApprovalRequest) -> ApprovalAnswer: ...


@dataclass(frozen=True)
class Prepared:
    call: ToolCall
    tool: Tool | None
    args: dict[str, Any]
    error: str | None  # set when the call cannot run as given


def parse_arguments(raw: str) -> Any:
    """The model's argument text as JSON, with an error message it can act on."""
    text = raw.strip()
    if not text:
        return {}
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        try:
            first, end = json.JSONDecoder().raw_decode(text)
        except json.JSONDecodeError:
            raise ToolError(
                f"the arguments are not valid JSON ({exc.msg} at character {exc.pos}); "
                "send one JSON object with the parameters"
            ) from None
        if text[end:].strip():
            raise ToolError(
                "the arguments hold more than one JSON value; send one JSON object per call "
                "and make separate calls for separate actions"
            ) from None
        return first


def prepare(call: ToolCall, registry: Registry) -> Prepared:
    tool = registry.get(call.name)
    if tool is None:
        return Prepared(
            call, None, {},
            f"there is no tool named {call.name!r}; the tools are: {', '.join(registry.names)}",
        )
    try:
        args = tool.validate(parse_arguments(call.arguments))
    except ToolError as exc:
        return Prepared(call, tool, {}, f"{call.name}: {exc}" if not str(exc).startswith(call.name) else str(exc))
    return Prepared(call, tool, args, None)


def run_tool(tool: Tool, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
    try:
        return tool.run(args, ctx)
    except ToolError as exc:
        return ToolResult(str(exc), is_error=True)
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # a tool bug must not end the session; the model and user see it
        return ToolResult(f"{tool.name} failed unexpectedly: {type(exc).__name__}: {exc}", is_error=True)


class ToolRunner:
    """Runs one reply's tool calls under the permission policy and yields their events.

    `results` holds, after iteration, one (call, text for the model) pair per call, in the
    model's order, which is the order the tool messages must go back in. `spent_usd` adds up
    what tools paid for themselves (a web search, a cheap model's answer), for the agent to
    take into its cost. Images the results returned for a model that sees wait in
    `take_images` for the message that follows the tool messages.
    """

    def __init__(
        self,
        registry: Registry,
        policy: Policy,
        ctx: ToolContext,
        approver: Approver | None,
        *,
        headless_hint: str = "",
        secret: str = "",
    ) -> None:
        self.registry = registry
        self.policy = policy
        self.ctx = ctx
        self.approver = approver
        self.headless_hint = headless_hint
        self.secret = secret
        self.hooks: Hooks | None = None  # the user's hooks around each call, when there are any
        self.spent_usd = 0.0
        self.relay_limit = 3  # relayed calls (sub-agents) running at once
        # The session's sandbox while it is not yet decided: before the first command is
        # judged, it is put into the context and the policy.
        self.sandboxing: DeferredSandbox | None = None
        self._sees_images = False
        self._returned: list[Returned] = []

    def run(
        self, calls: tuple[ToolCall, ...], results: list[tuple[ToolCall, str]], *, sees_images: bool = False
    ) -> Iterator[Event]:
        """`sees_images`: whether the model these results go back to takes images."""
        self._sees_images = sees_images
        self._returned = []
        prepared = [prepare(c, self.registry) for c in calls]
        if self.sandboxing is not None and any(p.tool is not None and p.tool.kind == "shell" for p in prepared):
            yield from self.settle_sandbox()
        i = 0
        while i < len(prepared):
            batch = [prepared[i]]
            if _relayed(prepared[i]):
                while i + len(batch) < len(prepared) and _relayed(prepared[i + len(batch)]):
                    batch.append(prepared[i + len(batch)])
                yield from self._run_relayed(batch, results)
                i += len(batch)
                continue
            if self._parallel_safe(prepared[i]):
                while i + len(batch) < len(prepared) and self._parallel_safe(prepared[i + len(batch)]):
                    batch.append(prepared[i + len(batch)])
            if len(batch) > 1:
                yield from self._run_parallel(batch, results)
            else:
                yield from self._run_one(batch[0], results)
            i += len(batch)

    def settle_sandbox(self) -> Iterator[Event]:
        """Puts the decided sandbox into the context and the policy; yields the notice the
        user gets once, when there is none."""
        assert self.sandboxing is not None
        choice = self.sandboxing.choice()
        self.ctx.sandbox = choice.sandbox
        self.policy.shell_sandboxed = choice.sandbox is not None
        notice = self.sandboxing.take_notice()
        if notice is not None:
            yield Notice(notice, "warning")

    def _parallel_safe(self, p: Prepared) -> bool:
        if p.error or p.tool is None or p.tool.kind != "read":
            return False
        if self.hooks is not None and self.hooks.watches_tool(p.tool.name):
            return False  # hooks run one call at a time, in the model's order
        return self.policy.decide(p.tool.name, p.tool.kind, p.args).decision == "allow"

    def _run_parallel(self, batch: list[Prepared], results: list[tuple[ToolCall, str]]) -> Iterator[Event]:
        from concurrent.futures import ThreadPoolExecutor

        for p in batch:
            yield ToolCallStarted(p.call.id, p.call.name, p.args)
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=min(4, len(batch))) as pool:
            futures = [pool.submit(run_tool, p.tool, p.args, self.ctx) for p in batch]  # type: ignore[arg-type]
            for p, fut in zip(batch, futures):
                result = fut.result()
                yield self._finish(p.call, result, time.monotonic() - started, results)

    def _run_relayed(self, batch: list[Prepared], results: list[tuple[ToolCall, str]]) -> Iterator[Event]:
        """Calls that report as they go (sub-agents): the allowed ones side by side, on
        threads; results in the model's order."""
        from glmcode.agent.relayed import Done, Job, run_relayed

        first, jobs = len(results), []
        for p in batch:
            assert p.tool is not None
            if self.policy.decide(p.tool.name, p.tool.kind, p.args).decision != "allow":
                yield from self._run_one(p, results)
                continue
            jobs.append(Job(p.call, p.tool, p.args))
            yield ToolCallStarted(p.call.id, p.call.name, p.args)
        try:
            for item in run_relayed(jobs, self.ctx, self.relay_limit):
                yield self._finish(item.call, item.result, item.duration, results) if isinstance(item, Done) else item
        finally:
            order = {p.call.id: n for n, p in enumerate(batch)}
            results[first:] = sorted(results[first:], key=lambda r: order.get(r[0].id, 0))

    def _run_one(self, p: Prepared, results: list[tuple[ToolCall, str]]) -> Iterator[Event]:
        started = time.monotonic()
        yield ToolCallStarted(p.call.id, p.call.name, p.args if not p.error else p.call.arguments)
        if p.error is not None or p.tool is None:
            yield self._finish(p.call, ToolResult(p.error or "", is_error=True), 0.0, results)
            return
        tool = p.tool
        verdict = self.policy.decide(tool.name, tool.kind, p.args)
        if verdict.decision != "deny" and self.hooks is not None:
            from glmcode.agent.hooked import before_call

            verdict = yield from before_call(self.hooks, tool.name, p.args, verdict)
        if verdict.decision == "deny":
            yield self._finish(p.call, ToolResult(f"Not run: {verdict.reason}", is_error=True), 0.0, results)
            return
        if verdict.decision == "ask":
            refusal = yield from self._ask(p, verdict.reason)
            if refusal is not None:
                yield self._finish(p.call, ToolResult(refusal, is_error=True), 0.0, results)
                return
            started = time.monotonic()
        result = run_tool(tool, p.args, self.ctx)
        if self._sandbox_refused(tool, result):
            result = yield from self._offer_outside_sandbox(p, result)
        duration = time.monotonic() - started
        if self.hooks is not None:
            from glmcode.agent.hooked import after_call

            result = yield from after_call(self.hooks, tool.name, p.args, result)
        yield self._finish(p.call, result, duration, results)

    def _sandbox_refused(self, tool: Tool, result: ToolResult) -> bool:
        return (self.approver is not None and self.ctx.sandbox is not None and tool.kind == "shell"
                and bool(result.data and result.data.get("sandbox_refusal")))

    def _offer_outside_sandbox(self, p: Prepared, result: ToolResult) -> Iterator[Event]:
        """Asks whether to run a command the sandbox refused once more, outside it; returns
        the result to keep (the first one when the user says no)."""
        assert p.tool is not None and self.approver is not None and result.data is not None
        reason = (f"the sandbox stopped it: {result.data['sandbox_refusal']}; run it once "
                  "outside the sandbox, with your full rights?")
        preview = self._preview(p.tool, p.args)
        yield ApprovalNeeded(p.call.id, p.tool.name, reason, preview)
        answer = self.approver(
            ApprovalRequest(p.call.id, p.tool.name, p.tool.kind, p.args, preview, reason, None, once=True)
        )
        if answer.decision not in ("yes", "always", "always_rule"):
            return result
        return run_tool(p.tool, p.args, replace(self.ctx, sandbox=None))

    def _ask(self, p: Prepared, reason: str) -> Iterator[Event]:
        """Yields the approval events; returns None when approved, else the refusal text."""
        tool = p.tool
        assert tool is not None
        rule = suggest_rule(tool.name, p.args)
        if self.approver is None:
            if tool.kind == "web" and rule and names_inward_host(p.args):
                yield Notice(f"Refused {tool.name}: {reason}. To allow it: the rule {rule!r} under "
                             "[permissions] allow (no mode opens this machine or a private network)")
                return (f"Not run: {reason}, and nobody can approve it in this run. Only the rule "
                        f"{rule!r} allows it; no mode does. Continue without it if you can, or say what you need.")
            yield Notice(f"Refused {tool.name}: {reason}. {self.headless_hint}".strip())
            how = f"the rule {rule!r} or a more permissive mode" if rule else "a more permissive mode"
            return (
                f"Not run: {reason}, and nobody can approve it in this run. "
                f"The user can allow it with {how}. "
                "Continue without it if you can, or say what you need."
            )
        preview = self._preview(tool, p.args)
        yield ApprovalNeeded(p.call.id, tool.name, reason, preview)
        if self.hooks is not None:
            yield from self.hooks.notification(f"glmcode needs your approval for {tool.name}: {reason}", tool.name)
        answer = self.approver(
            ApprovalRequest(p.call.id, tool.name, tool.kind, p.args, preview, reason, rule)
        )
        if answer.decision == "always":
            self.policy.allow_for_session(tool.name)
        elif answer.decision == "always_rule":
            self.policy.allow_for_session(rule)
        elif answer.decision != "yes":
            why = f" Their reason: {answer.reason}" if answer.reason else ""
            return f"The user declined this {tool.name} call.{why}"
        return None

    def _preview(self, tool: Tool, args: dict[str, Any]) -> str:
        if tool.kind == "shell":
            return str(args.get("command", ""))
        if tool.preview is None:
            return json.dumps(args, ensure_ascii=False)
        try:
            return tool.preview(args, self.ctx)
        except ToolError as exc:
            return f"(no preview: {exc})"

    def take_images(self) -> list[Returned]:
        """The images the last step's results returned for the model, once."""
        returned, self._returned = self._returned, []
        return returned

    def _finish(
        self, call: ToolCall, result: ToolResult, duration: float, results: list[tuple[ToolCall, str]]
    ) -> ToolCallFinished:
        images = len(result.images)
        if images:
            result = settle(result, call.name, self._sees_images, self.ctx.see_images)
            if result.images:
                self._returned.append(Returned(call.name, result.images))
        # A command or file may print the user's own key (`env`, a config file): it goes
        # neither to the model nor to the screen.
        text = redact(result.for_model, self.secret)
        if result.is_error and not text.startswith("Error"):
            text = f"Error: {text}"
        results.append((call, text))
        spent = (result.data or {}).get("cost_usd")
        if isinstance(spent, (int, float)) and not isinstance(spent, bool):
            self.spent_usd += spent
        return ToolCallFinished(
            call.id,
            call.name,
            redact(result.output, self.secret),
            result.is_error,
            round(duration, 4),
            redact(result.diff, self.secret) if result.diff else result.diff,
            result.data,
            images,
        )


def _relayed(p: Prepared) -> bool:
    return p.error is None and p.tool is not None and p.tool.relayed is not None


def interrupted_results(
    calls: tuple[ToolCall, ...], results: list[tuple[ToolCall, str]]
) -> list[tuple[ToolCall, str]]:
    """Every call answered, so the conversation stays valid after an interrupt."""
    done = {c.id for c, _ in results}
    return results + [(c, "Error: interrupted by the user before this call finished") for c in calls if c.id not in done]


def with_distinct_ids(reply: ModelReply) -> ModelReply:
    """GLM sometimes repeats an id across parallel calls, or sends none; results are paired
    by id, so each call gets its own."""
    seen: set[str] = set()
    calls = []
    changed = False
    for n, call in enumerate(reply.tool_calls):
        call_id = call.id or f"call_{n}"
        if call_id in seen:
            call_id = f"{call_id}_{n}"
        if call_id != call.id:
            changed = True
            call = ToolCall(call_id, call.name, call.arguments, call.index)
        seen.add(call_id)
        calls.append(call)
    if not changed:
        return reply
    return replace(reply, tool_calls=tuple(calls))
