"""From what happened to a status and an exit code (the table in docs/fix.md)."""

from __future__ import annotations

from glmcode.fix.workflow import WorkResult

EXIT_CODES = {
    "fixed": 0,
    "already_passing": 0,
    "error": 1,
    "usage": 2,
    "still_failing": 3,
    "no_change": 4,
    "turn_limit": 5,
    "budget_limit": 5,
    "interrupted": 130,
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
