"""`!command` at the prompt: run it now, without the model, show its output as it comes, and
keep a note of it that the next prompt carries to the model."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

NOTE_CHARS = 12_000


@dataclass(frozen=True)
class ShellRun:
    command: str
    exit_code: int | None  # None when interrupted
    output: str
    duration: float

    def note(self) -> str:
        """The run as the model reads it, with the output cut in the middle when long."""
        output = self.output.rstrip("\n")
        if len(output) > NOTE_CHARS:
            half = NOTE_CHARS // 2
            output = f"{output[:half]}\n... ({len(output) - NOTE_CHARS} characters left out) ...\n{output[-half:]}"
        how = "was interrupted" if self.exit_code is None else f"exited with code {self.exit_code}"
        body = f"\n```\n{output}\n```" if output else " (no output)"
        return f"I ran `{self.command}` in my terminal; it {how}.{body}"


def run_command(command: str, cwd: Path, show: Callable[[str], None]) -> ShellRun:
    """Runs `command` with bash in its own process group, passing each line of output to
    `show`. Ctrl-C stops the command, not the session."""
    from glmcode.tools.processes import kill_group, start

    started = time.monotonic()
    proc = start(
        ["bash", "-c", command],
        cwd,
        env={"PAGER": "cat", "GIT_PAGER": "cat"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert proc.stdout is not None
    lines: list[str] = []
    try:
        for raw in iter(proc.stdout.readline, b""):
            line = raw.decode("utf-8", errors="replace")
            lines.append(line)
            show(line.rstrip("\n"))
        code: int | None = proc.wait()
    except KeyboardInterrupt:
        kill_group(proc)
        code = None
    finally:
        proc.stdout.close()
    return ShellRun(command, code, "".join(lines), time.monotonic() - started)
