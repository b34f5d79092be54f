"""Noticing a model that goes round in circles within one run.

The same tool calls with the same arguments, turn after turn, or the same long text written
again and again, will not get a different result. At `limit` repeats in a row the model gets a
note with the results telling it so; if it repeats once more, the run is stopped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from glmcode.events import ToolCall

DEFAULT_LIMIT = 3
MIN_TEXT_CHARS = 80  # shorter texts ("Let me check.") repeat harmlessly


@dataclass(frozen=True)
class Verdict:
    """`note` goes to the model with this turn's results; `stop` ends the run instead."""

    note: str | None = None
    stop: str | None = None


@dataclass
class LoopGuard:
    limit: int = DEFAULT_LIMIT
    _calls: tuple[tuple[str, str], ...] = field(default=(), init=False, repr=False)
    _call_streak: int = field(default=0, init=False, repr=False)
    _text: str = field(default="", init=False, repr=False)
    _text_streak: int = field(default=0, init=False, repr=False)

    def reset(self) -> None:
        """A new run: what the model repeated for an earlier prompt no longer counts."""
        self._calls, self._call_streak = (), 0
        self._text, self._text_streak = "", 0

    def check(self, text: str, calls: tuple[ToolCall, ...]) -> Verdict:
        signature = tuple((c.name, _canonical(c.arguments)) for c in calls)
        if signature and signature == self._calls:
            self._call_streak += 1
        else:
            self._calls, self._call_streak = signature, 1 if signature else 0
        text = text.strip()
        if len(text) >= MIN_TEXT_CHARS and text == self._text:
            self._text_streak += 1
        else:
            self._text, self._text_streak = text, 1 if len(text) >= MIN_TEXT_CHARS else 0
        if self._call_streak > self.limit:
            return Verdict(stop=f"the model made the same tool call{_s(calls)} with the same arguments "
                           f"{self._call_streak} times in a row")
        if self._text_streak > self.limit:
            return Verdict(stop=f"the model wrote the same text {self._text_streak} times in a row")
        if self._call_streak == self.limit:
            what = ", ".join(sorted({c.name for c in calls}))
            return Verdict(note=(
                f"[glmcode] This is the {_nth(self.limit)} time in a row you made exactly this {what} "
                "call with the same arguments, and the result will not change. Do not repeat it: use "
                "what it returned, try a different approach, or if you are stuck, stop and tell the "
                "user what is blocking you. Repeating it again will end this turn."
            ))
        if self._text_streak == self.limit:
            return Verdict(note=(
                f"[glmcode] You have now written the same text {self.limit} times in a row. You are "
                "repeating yourself: change approach, or stop and tell the user what is blocking you. "
                "Repeating it again will end this turn."
            ))
        return Verdict()


def _canonical(arguments: str) -> str:
    try:
        return json.dumps(json.loads(arguments), sort_keys=True, ensure_ascii=False)
    except ValueError:
        return arguments.strip()


def _s(calls: tuple[ToolCall, ...]) -> str:
    return "s" if len(calls) > 1 else ""


def _nth(n: int) -> str:
    return {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth"}.get(n, f"{n}th")
