"""Events of the fix workflow itself, beside the agent's own: they go into the same stream,
so `--output-format stream-json` shows when each check ran and what it said."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from glmcode.events import Event


@dataclass(frozen=True)
class CheckStarted(Event):
    """`attempt` 0 is the check before any work."""

    type: ClassVar[str] = "check_started"
    attempt: int
    command: str


@dataclass(frozen=True)
class CheckFinished(Event):
    type: ClassVar[str] = "check_finished"
    attempt: int
    exit_code: int | None
    timed_out: bool
    duration: float
    output_tail: str


@dataclass(frozen=True)
class AttemptStarted(Event):
    type: ClassVar[str] = "attempt_started"
    attempt: int
    attempts: int


@dataclass(frozen=True)
class BudgetSpent(Event):
    """The run has cost more than --budget-usd: the tool calls already paid for still run,
    then the agent stops without another request."""

    type: ClassVar[str] = "budget_spent"
    cost_usd: float
    budget_usd: float
