"""From what happened to a status and an exit code (the table in docs/fix.md)."""

from __future__ import annotations

from glmcode.fix.workflow import WorkResult
from glmcode.ui.headless import EXIT_CODES as RUN_EXIT_CODES

# Codes that mean what they mean for `glmcode exec` come from exec's table; 2, 3 and 4 are
# fix's own.
EXIT_CODES = {
    "fixed": RUN_EXIT_CODES["done"],
    "already_passing": RUN_EXIT_CODES["done"],
    "error": RUN_EXIT_CODES["error"],
    "usage": 2,
    "still_failing": 3,
    "no_change": 4,
    "turn_limit": RUN_EXIT_CODES["max_turns"],
    "budget_limit": RUN_EXIT_CODES["max_turns"],
    "interrupted": RUN_EXIT_CODES["interrupted"],
}


def decide(result: WorkResult, changed: bool, has_check: bool) -> str:
    """The status of a run. A passing check wins over a limit reached on the way, since the
    patch is then proven; without a check, only an agent that finished counts."""
    stopped = result.stopped
    if stopped in ("interrupted", "error", "already_passing"):
        return stopped
    last = result.last_check
    if has_check and last is not None and last.passed:
        return "fixed" if changed else "no_change"
    if stopped == "max_turns":
        return "turn_limit"
    if stopped == "budget":
        return "budget_limit"
    if not changed:
        return "no_change"
    return "still_failing" if has_check else "fixed"
