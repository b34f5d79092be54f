"""What one run of the agent has produced and used so far: kept apart from the loop so that an
interrupt, a limit or an error can close the run from whatever point it reached."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from glmcode.events import RunFinished, TokenUsage, ToolCall


@dataclass
class Partial:
    """What a turn has produced so far, kept so an interrupt loses nothing."""

    text: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    calls: tuple[ToolCall, ...] = ()
    results: list[tuple[ToolCall, str]] = field(default_factory=list)
    answered: set[str] = field(default_factory=set)
    reply_appended: bool = False


@dataclass
class Totals:
    """What one run has used."""

    usage: TokenUsage = field(default_factory=TokenUsage)
    cost: float = 0.0

    def finished(self, status: str, result: str, turns: int) -> RunFinished:
        return RunFinished(status, result, turns, self.usage, self.cost)


def last_text(messages: list[dict[str, Any]]) -> str:
    for m in reversed(messages):
        if m.get("role") == "assistant" and m.get("content"):
            return str(m["content"])
    return ""
