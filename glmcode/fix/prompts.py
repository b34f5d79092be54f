"""What the agent is told: the task and the failing check first, then each new failure.

The texts live in the .md files beside this module; `$name` marks where values go.
"""

from __future__ import annotations

import re
from pathlib import Path
from string import Template

from glmcode.fix.check import MODEL_TAIL_CHARS, CheckResult, tail

_HERE = Path(__file__).parent


def _template(name: str) -> Template:
    return Template((_HERE / f"{name}.md").read_text(encoding="utf-8"))


def first_prompt(task: str, check: CheckResult | None) -> str:
    rules = _template("rules").substitute()
    if check is None:
        return _template("task_without_check").substitute(task=task.strip(), rules=rules).strip() + "\n"
    return _template("task_with_check").substitute(
        task=task.strip(), check=check.command, result=check.describe(), output=fenced_tail(check.output), rules=rules
    ).strip() + "\n"


def retry_prompt(check: CheckResult, attempt: int, attempts: int) -> str:
    return _template("retry").substitute(
        check=check.command, result=check.describe(), attempt=attempt, attempts=attempts, output=fenced_tail(check.output)
    ).strip() + "\n"


def fenced_tail(output: str) -> str:
    """The end of the check's output in a code fence longer than any backtick run inside it."""
    text = tail(output, MODEL_TAIL_CHARS).rstrip("\n") or "(no output)"
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}\n{text}\n{fence}"
