"""The result of a fix run: one JSON object for machines, a summary table for people."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import IO, Any

from glmcode.events import TokenUsage
from glmcode.fix.check import REPORT_TAIL_CHARS, CheckResult, tail
from glmcode.fix.outcome import EXIT_CODES
from glmcode.fix.patch import FileChange
from glmcode.fix.workflow import Attempt
from glmcode.text import count


@dataclass
class FixReport:
    status: str
    check: str | None = None
    initial_check: CheckResult | None = None
    attempts: list[Attempt] = field(default_factory=list)
    files: list[FileChange] = field(default_factory=list)
    patch: str | None = None  # where the patch was written; "-" for standard output
    applied: bool = False
    worktree: bool = False
    usage: TokenUsage = field(default_factory=TokenUsage)
    cost_usd: float = 0.0
    duration_s: float = 0.0
    session_id: str | None = None
    result: str = ""
    error: dict[str, str] | None = None
    limit: str = ""  # the limit that stopped the run, for the message

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.status]

    def message(self) -> str:
        n = len(self.attempts)
        tries = f"{n} attempt{'s' if n != 1 else ''}"
        if self.status == "fixed":
            if self.check is None:
                return f"done: {count(len(self.files), 'file')} changed"
            return f"fixed: the check passes after {tries}"
        return {
            "already_passing": "the check already passes; nothing to fix",
            "still_failing": f"the check still fails after {tries}",
            "no_change": "no change was made",
            "turn_limit": f"stopped at the turn limit{self.limit}",
            "budget_limit": f"stopped at the budget{self.limit}",
            "interrupted": "interrupted",
            "error": "error: " + (self.error or {}).get("message", "unknown"),
        }[self.status]

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "result",
            "status": self.status,
            "exit_code": self.exit_code,
            "message": self.message(),
            "check": self.check,
            "initial_check": _check_dict(self.initial_check),
            "attempts": [_attempt_dict(a) for a in self.attempts],
            "files_changed": [{"path": f.path, "status": f.status} for f in self.files],
            "patch": self.patch,
            "applied": self.applied,
            "worktree": self.worktree,
            "result": self.result,
            "usage": {
                "prompt_tokens": self.usage.prompt_tokens,
                "completion_tokens": self.usage.completion_tokens,
                "cached_tokens": self.usage.cached_tokens,
            },
            "cost_usd": round(self.cost_usd, 6),
            "duration_s": round(self.duration_s, 3),
            "session_id": self.session_id,
            "error": self.error,
        }

    def rows(self) -> list[tuple[str, str, str, str, str]]:
        """attempt, agent, turns, check, time: one row per attempt, the first check as 0."""
        rows = []
        if self.initial_check is not None:
            c = self.initial_check
            rows.append(("0", "-", "-", c.describe(), f"{c.duration:.1f}s"))
        for a in self.attempts:
            rows.append((str(a.number), a.agent_status, str(a.turns), a.check.describe() if a.check else "-",
                         f"{a.duration:.1f}s"))
        return rows

    def facts(self) -> list[tuple[str, str]]:
        files = ", ".join(f"{f.path} ({f.status})" for f in self.files) or "none"
        u = self.usage
        facts = [
            ("files changed", files),
            ("tokens", f"{u.prompt_tokens:,} prompt ({u.cached_tokens:,} cached), {u.completion_tokens:,} completion"),
            ("cost", f"${self.cost_usd:.4f}"),
            ("time", f"{self.duration_s:.1f}s"),
        ]
        if self.patch:
            facts.append(("patch", "standard output" if self.patch == "-" else self.patch))
        if self.applied:
            facts.append(("applied", "yes, to your files"))
        return facts


def _check_dict(check: CheckResult | None) -> dict[str, Any] | None:
    if check is None:
        return None
    return {
        "exit_code": check.exit_code,
        "timed_out": check.timed_out,
        "passed": check.passed,
        "output_tail": tail(check.output, REPORT_TAIL_CHARS),
        "duration_s": round(check.duration, 3),
    }


def _attempt_dict(a: Attempt) -> dict[str, Any]:
    check = _check_dict(a.check)
    return {
        "number": a.number,
        "agent_status": a.agent_status,
        "turns": a.turns,
        "check_exit_code": check["exit_code"] if check else None,
        "check_timed_out": check["timed_out"] if check else False,
        "check_passed": check["passed"] if check else None,
        "output_tail": check["output_tail"] if check else "",
        "check_duration_s": check["duration_s"] if check else None,
        "duration_s": round(a.duration, 3),
    }


def print_summary(report: FixReport, out: IO[str]) -> None:
    """Aligned plain text; a rich table when `out` is a terminal."""
    if out.isatty():
        _print_rich(report, out)
        return
    lines = [f"{report.message()} (exit {report.exit_code})"]
    rows = report.rows()
    if rows:
        table = [("attempt", "agent", "turns", "check", "time"), *rows]
        widths = [max(len(r[i]) for r in table) for i in range(5)]
        lines.append("")
        lines += ["  " + "  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in table]
    lines.append("")
    facts = report.facts()
    key_width = max(len(k) for k, _ in facts)
    lines += [f"  {k.ljust(key_width)}  {v}" for k, v in facts]
    out.write("\n".join(lines) + "\n")
    out.flush()


def _print_rich(report: FixReport, out: IO[str]) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(file=out, highlight=False)
    style = "green" if report.exit_code == 0 else "red" if report.exit_code in (1, 3) else "yellow"
    console.print(Text.assemble((report.message(), f"bold {style}"), f" (exit {report.exit_code})"))
    rows = report.rows()
    if rows:
        table = Table(box=None, pad_edge=False, header_style="bold")
        for name in ("attempt", "agent", "turns", "check", "time"):
            table.add_column(name, justify="right" if name in ("attempt", "turns", "time") else "left")
        for row in rows:
            table.add_row(*(Text(cell) for cell in row))
        console.print(table)
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="dim")
    facts.add_column()
    for key, value in report.facts():
        facts.add_row(Text(key), Text(value))
    console.print(facts)
