"""The fix loop: check, let the agent work, check again, and tell it what still fails.

All attempts share one conversation, so on a retry the agent remembers what it tried. The
loop knows nothing of git or of the screen: it reports through `emit` and returns what
happened; deciding the exit status is `outcome.decide`'s job.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from glmcode.events import Error, Event, RunFinished, TurnStarted, Usage
from glmcode.fix.check import REPORT_TAIL_CHARS, CheckResult, run_check, tail
from glmcode.fix.progress import AttemptStarted, BudgetSpent, CheckFinished, CheckStarted
from glmcode.fix.prompts import first_prompt, retry_prompt

if TYPE_CHECKING:
    from glmcode.agent.loop import Agent
    from glmcode.images.attach import Attached


@dataclass(frozen=True)
class Attempt:
    number: int
    agent_status: str  # done, max_turns, budget, error, interrupted
    turns: int
    check: CheckResult | None
    duration: float
    answer: str


@dataclass
class WorkResult:
    """`stopped` says why the loop ended: already_passing, passed, attempts (all used and the
    check still fails), done (no check), max_turns, budget, error or interrupted."""

    stopped: str
    initial_check: CheckResult | None = None
    attempts: list[Attempt] = field(default_factory=list)
    error: Error | None = None

    @property
    def last_check(self) -> CheckResult | None:
        for attempt in reversed(self.attempts):
            if attempt.check is not None:
                return attempt.check
        return self.initial_check


@dataclass(frozen=True)
class FixPlan:
    task: str
    check: str | None
    cwd: Path
    attempts: int
    check_timeout: float
    budget_usd: float | None
    attached: Attached | None = None  # the task's images, for the first attempt


def work(plan: FixPlan, make_agent: Callable[[], Agent], emit: Callable[[Event], None]) -> WorkResult:
    result = WorkResult("interrupted")
    try:
        _work(plan, make_agent, emit, result)
    except KeyboardInterrupt:
        result.stopped = "interrupted"
    return result


def _work(plan: FixPlan, make_agent: Callable[[], Agent], emit: Callable[[Event], None], result: WorkResult) -> None:
    if plan.check is not None:
        result.initial_check = _check(plan, 0, emit)
        if result.initial_check.passed:
            result.stopped = "already_passing"
            return
    agent = make_agent()
    prompt = first_prompt(plan.task, result.initial_check)
    for number in range(1, plan.attempts + 1):
        if _over_budget(agent, plan.budget_usd):
            result.stopped = "budget"
            return
        if plan.check is not None:
            # Without a check there is one run and --attempts means nothing: nothing to count.
            emit(AttemptStarted(number, plan.attempts))
        started = time.monotonic()
        run = _run_agent(agent, prompt, emit, plan.budget_usd, plan.attached if number == 1 else None)
        result.error = run.error or result.error
        check = None
        if plan.check is not None and run.status not in ("error", "interrupted"):
            check = _check(plan, number, emit)
        result.attempts.append(Attempt(number, run.status, run.turns, check, time.monotonic() - started, run.answer))
        if run.status != "done":
            result.stopped = run.status
            return
        if check is None:
            result.stopped = "done"
            return
        if check.passed:
            result.stopped = "passed"
            return
        prompt = retry_prompt(check, number, plan.attempts)
    result.stopped = "attempts"


def _check(plan: FixPlan, attempt: int, emit: Callable[[Event], None]) -> CheckResult:
    assert plan.check is not None
    emit(CheckStarted(attempt, plan.check))
    check = run_check(plan.check, plan.cwd, plan.check_timeout)
    emit(CheckFinished(attempt, check.exit_code, check.timed_out, round(check.duration, 3), tail(check.output, REPORT_TAIL_CHARS)))
    return check


@dataclass
class _Run:
    status: str = "interrupted"
    turns: int = 0
    answer: str = ""
    error: Error | None = None


def _run_agent(
    agent: Agent, prompt: str, emit: Callable[[Event], None], budget_usd: float | None, attached: Attached | None = None
) -> _Run:
    """One agent run. Past the budget, the agent may finish the tool calls it already paid
    for, then stops without a further request."""
    from glmcode.agent.drive import drive

    run = _Run()
    over_budget = False

    def handle(event: Event) -> None:
        nonlocal over_budget
        emit(event)
        if isinstance(event, TurnStarted):
            run.turns = event.turn
        elif isinstance(event, Usage) and not over_budget and _over_budget(agent, budget_usd):
            assert budget_usd is not None
            over_budget = True
            agent.stop_after_turn()
            emit(BudgetSpent(round(agent.cost_usd, 6), budget_usd))
        elif isinstance(event, Error):
            run.error = event
        elif isinstance(event, RunFinished):
            run.status, run.turns, run.answer = event.status, event.turns, event.result

    drive(agent.run(prompt) if attached is None else attached.run(agent, prompt), handle)
    if over_budget and run.status == "max_turns":
        run.status = "budget"
    return run


def _over_budget(agent: Agent, budget_usd: float | None) -> bool:
    return budget_usd is not None and agent.cost_usd > budget_usd
