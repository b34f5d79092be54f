"""Running one sub-agent for a `task` call: a fresh conversation (its own system prompt, the
project's environment and memory files, the parent's brief as the one request), the tools
its definition gives it, the parent's permission policy, and questions for the user passed to
the parent's approver on the thread that drives the parent. Its events go to the parent
wrapped under the `task` call; its final answer is the call's result."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from glmcode.agent.loop import Agent, ModelClient
from glmcode.agent.tool_calls import ApprovalAnswer, ApprovalRequest, ToolRunner
from glmcode.events import (
    Error,
    Event,
    ReasoningDelta,
    RunFinished,
    SubagentEvent,
    TextDelta,
    ToolCallStarted,
)
from glmcode.subagents.catalog import AgentCatalog
from glmcode.subagents.definitions import AgentDefinition
from glmcode.tools.base import ToolContext, ToolError, ToolResult
from glmcode.tools.registry import Registry
from glmcode.tools.relay import Relay

DEFAULT_AGENT = "explore"
DEFAULT_MAX_TURNS = 30


@dataclass
class Spawner:
    """What every sub-agent of one parent shares. `parent` and `context` are set once the
    parent's runner and system prompt exist (the `task` tool is in the parent's registry,
    so it is built before them)."""

    catalog: AgentCatalog
    max_output: Callable[[str], int]
    max_turns: int = DEFAULT_MAX_TURNS
    compact_threshold: float = 0.8
    parent: ToolRunner | None = None
    context: str = ""  # the environment and memory files, as in the parent's system prompt
    # The client for a model (None: the parent's model, whichever it is now) and that model's name.
    make_client: Callable[[str | None], tuple[str, ModelClient]] | None = None

    def bind(
        self, parent: ToolRunner, system_prompt: str, make_client: Callable[[str | None], tuple[str, ModelClient]]
    ) -> None:
        from glmcode.agent.context import PROMPT_FILE

        instructions = PROMPT_FILE.read_text(encoding="utf-8").strip()
        self.parent, self.make_client = parent, make_client
        self.context = system_prompt[len(instructions):].strip() if system_prompt.startswith(instructions) else system_prompt

    def definition(self, name: str | None) -> AgentDefinition:
        agent = self.catalog.agents.get(name or DEFAULT_AGENT)
        if agent is None:
            raise ToolError(f"task: there is no agent named {name!r}; the agents are: {', '.join(self.catalog.agents)}")
        return agent

    def run(self, args: dict[str, Any], ctx: ToolContext, relay: Relay) -> ToolResult:
        parent, make_client = self.parent, self.make_client
        assert parent is not None and make_client is not None, "Spawner.bind is called when the workspace opens"
        agent = self.definition(args.get("agent"))
        model, client = make_client(agent.model)
        from glmcode.llm.catalog import get_model

        info = get_model(model)
        registry = Registry(t for n in self.catalog.tools_for(agent) if (t := parent.registry.get(n)) is not None)
        runner = ToolRunner(
            registry,
            parent.policy,
            # The parent's world (sandbox, limits, web, editor), with the relay's own cancel.
            replace(ctx, cancel=relay.cancel),
            None if parent.approver is None else _Asking(parent.approver, relay, agent.name),
            headless_hint=parent.headless_hint,
            secret=parent.secret,
        )
        runner.relay_limit = parent.relay_limit
        runner.sandboxing = parent.sandboxing
        sub = Agent(
            client,
            runner,
            system_prompt=f"{agent.prompt}\n\n{self.context}".strip() + "\n",
            context_window=info.context_window,
            cost=info.cost,
            max_turns=agent.max_turns or self.max_turns,
            compact_threshold=self.compact_threshold,
            max_output=self.max_output(model),
        )
        finished, error, calls = _drive(sub, str(args["prompt"]), relay, agent.name)
        return _result(agent, model, finished, error, calls, agent.max_turns or self.max_turns)


@dataclass
class _Asking:
    """The sub-agent's approver: the parent's, called on the parent's thread, told who asks."""

    approver: Callable[[ApprovalRequest], ApprovalAnswer]
    relay: Relay
    agent: str

    def __call__(self, request: ApprovalRequest) -> ApprovalAnswer:
        asked = replace(request, reason=f"{request.reason} (asked by the {self.agent} sub-agent)")
        answer: ApprovalAnswer = self.relay.ask(self.approver, asked)
        return answer


def _drive(sub: Agent, prompt: str, relay: Relay, name: str) -> tuple[RunFinished | None, Error | None, int]:
    """Runs the sub-agent to its end, passing its events on; a cancel from the parent is an
    interrupt, which the sub-agent answers by closing its turn."""
    finished: RunFinished | None = None
    error: Error | None = None
    calls = 0
    events = sub.run(prompt)
    interrupted = False
    try:
        event: Event = next(events)
        while True:
            if isinstance(event, RunFinished):
                finished = event
            elif isinstance(event, Error):
                error = event
            elif isinstance(event, ToolCallStarted):
                calls += 1
            if not isinstance(event, (TextDelta, ReasoningDelta)):  # the messages carry the text whole
                relay.emit(SubagentEvent(relay.call_id, name, event))
            if relay.cancel.is_set() and not interrupted:
                interrupted = True
                event = events.throw(KeyboardInterrupt())
            else:
                event = next(events)
    except StopIteration:
        pass
    return finished, error, calls


def _result(
    agent: AgentDefinition, model: str, finished: RunFinished | None, error: Error | None, calls: int, limit: int
) -> ToolResult:
    status = finished.status if finished is not None else "error"
    report = (finished.result if finished is not None else "").strip()
    data = {
        "agent": agent.name,
        "model": model,
        "status": status,
        "turns": finished.turns if finished is not None else 0,
        "tool_calls": calls,
        "prompt_tokens": finished.usage.prompt_tokens if finished is not None else 0,
        "completion_tokens": finished.usage.completion_tokens if finished is not None else 0,
        "cost_usd": round(finished.cost_usd, 6) if finished is not None else 0.0,
    }
    if status == "done":
        return ToolResult(report or "(the sub-agent ended without a report)", data=data)
    if status == "max_turns":
        note = (
            f"(The {agent.name} sub-agent stopped at its limit of {limit} model requests; "
            "this is its last message, and its work may be unfinished.)"
        )
        return ToolResult(f"{report}\n\n{note}".strip(), data=data)
    if status == "interrupted":
        return ToolResult("the sub-agent was interrupted by the user", is_error=True, data=data)
    why = f"{error.message}" + (f" ({error.hint})" if error is not None and error.hint else "") if error else "it ended without a reply"
    partial = f"\nIts last message before that:\n{report}" if report else ""
    return ToolResult(f"the {agent.name} sub-agent failed: {why}{partial}", is_error=True, data=data)
