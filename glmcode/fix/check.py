"""Running the check: bash in the work tree, its own process group, a hard time limit.

Output goes to a temporary file rather than a pipe, so a child that outlives the check (or
keeps the pipe open after a timeout) can never make glmcode wait for it.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from glmcode.tools import processes

MODEL_TAIL_CHARS = 12_000
REPORT_TAIL_CHARS = 4_000


@dataclass(frozen=True)
class CheckResult:
    command: str
    exit_code: int | None  # None when the check was killed at its time limit
    output: str  # stdout and stderr interleaved, whole
    duration: float
    timed_out: bool = False

    @property
    def passed(self) -> bool:
        return self.exit_code == 0 and not self.timed_out

    def describe(self) -> str:
        if self.timed_out:
            return f"timed out after {self.duration:.1f}s"
        return "passed" if self.passed else f"failed (exit {self.exit_code})"


def run_check(command: str, cwd: Path, timeout: float) -> CheckResult:
    """Run `command` with bash in `cwd`; kill it and all its children after `timeout` seconds
    or when glmcode is interrupted."""
    started = time.monotonic()
    # Bytecode the check wrote would record the source's mtime in whole seconds and its size:
    # an edit made within the same second that keeps the size (`a - b` to `a + b`) would then
    # run the old code on the next check.
    env = {"PYTHONDONTWRITEBYTECODE": "1"}
    with tempfile.TemporaryFile() as out:
        proc = processes.start(["bash", "-c", command], cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            ending = processes.wait(proc, timeout)
        finally:
            # Whatever the check left running in its group goes with it: the work tree may be
            # about to disappear, and a stray server would hold its port for the next attempt.
            processes.kill_group(proc)
        out.seek(0)
        output = out.read().decode("utf-8", errors="replace")
    duration = time.monotonic() - started
    timed_out = ending == "timed_out"
    return CheckResult(command, None if timed_out else proc.returncode, output, duration, timed_out)


def tail(text: str, limit: int) -> str:
    """The last `limit` characters, cut at a line start, saying how much was left out."""
    if len(text) <= limit:
        return text
    cut = text[-limit:]
    newline = cut.find("\n")
    if 0 <= newline < len(cut) - 1:
        cut = cut[newline + 1 :]
    return f"[... {len(text) - len(cut)} earlier characters left out ...]\n{cut}"
