"""What `glmcode fix` prints while it works, in each output format.

The agent's events go through exec's renderers' conventions: `text` reuses exec's
TextRenderer and adds a line per check and attempt, `stream-json` prints every event as a
JSON line, and `json` waits for the end. All three finish with the report.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import IO

from glmcode.events import Event, RunFinished
from glmcode.fix.check import tail
from glmcode.fix.progress import AttemptStarted, BudgetSpent, CheckFinished, CheckStarted
from glmcode.fix.report import FixReport, print_summary

VERBOSE_OUTPUT_CHARS = 2_000


class FixView:
    def __init__(self, output_format: str, human: IO[str], err: IO[str], *, verbose: bool) -> None:
        from glmcode.ui.headless import TextRenderer

        self.format = output_format
        self.human, self.err = human, err
        self.verbose = verbose
        self.text = TextRenderer(human, err, verbose=verbose) if output_format == "text" else None
        self._budget_spent = False

    def handle(self, event: Event) -> None:
        if self.format == "stream-json":
            self._emit(event.to_dict())
        elif self.text is not None:
            if isinstance(event, (CheckStarted, CheckFinished, AttemptStarted, BudgetSpent)):
                self._progress(event)
            elif isinstance(event, RunFinished) and self._budget_spent and event.status == "max_turns":
                # The turn limit was only the budget's way to stop; do not blame --max-turns.
                self.text.handle(replace(event, status="budget"))
            else:
                self.text.handle(event)

    def finish(self, report: FixReport) -> None:
        if self.text is not None:
            print_summary(report, self.human)
        else:
            self._emit(report.to_dict())

    def say(self, message: str) -> None:
        """A line for people, whatever the format (standard error)."""
        self.err.write(f"glmcode: {message}\n")
        self.err.flush()

    def _progress(self, event: CheckStarted | CheckFinished | AttemptStarted | BudgetSpent) -> None:
        if isinstance(event, BudgetSpent):
            self._budget_spent = True
            self.say(f"the budget is spent (${event.cost_usd:.4f} of ${event.budget_usd:g}); no further requests")
        elif isinstance(event, AttemptStarted):
            self.say(f"attempt {event.attempt} of {event.attempts}")
        elif isinstance(event, CheckStarted):
            self.say(f"running the check: {event.command}")
        else:
            if event.timed_out:
                what = f"timed out after {event.duration:.1f}s (killed)"
            elif event.exit_code == 0:
                what = f"passed in {event.duration:.1f}s"
            else:
                what = f"failed (exit {event.exit_code}) in {event.duration:.1f}s"
            self.say(f"check {what}")
            if self.verbose and event.output_tail.strip():
                self.err.write(tail(event.output_tail, VERBOSE_OUTPUT_CHARS).rstrip("\n") + "\n")
                self.err.flush()

    def _emit(self, record: dict[str, object]) -> None:
        self.human.write(json.dumps(record, ensure_ascii=False) + "\n")
        self.human.flush()
