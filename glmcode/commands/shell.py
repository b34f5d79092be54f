"""Shell lines in a command file: "!`git diff --stat`" anywhere in the prompt is replaced by what
the command prints when the custom command is used, so the prompt carries the repository's
state of the moment. They run through /bin/sh in the working folder, without glmcode's API key,
and are cut off at a time limit; a project's commands may only run them once it is trusted."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path

from glmcode.keys import child_env
from glmcode.tools.processes import kill_group

SHELL_SPAN = re.compile(r"!`([^`\n]+)`")
TIMEOUT_S = 30.0
MAX_OUTPUT = 20_000


def runs_shell(body: str) -> bool:
    return SHELL_SPAN.search(body) is not None


def shell_runner(cwd: Path, report: Callable[[str, int | None], None] | None = None) -> Callable[[str], str]:
    """A function that runs one shell line and returns the text that takes its place;
    `report` hears of each run with its exit code (None: stopped at the time limit)."""

    def run(command: str) -> str:
        text, code = run_line(command, cwd)
        if report is not None:
            report(command, code)
        return text

    return run


def run_line(command: str, cwd: Path, timeout_s: float = TIMEOUT_S) -> tuple[str, int | None]:
    try:
        proc = subprocess.Popen(
            ["/bin/sh", "-c", command], cwd=cwd, env=child_env(), stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
        )
    except OSError as exc:
        return f"(could not run `{command}`: {exc.strerror or exc})", None
    try:
        out, _ = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        kill_group(proc)
        return f"(`{command}` was stopped after {timeout_s:g}s)", None
    except BaseException:
        kill_group(proc)
        raise
    text = out.decode("utf-8", errors="replace").rstrip("\n")
    if len(text) > MAX_OUTPUT:
        text = text[:MAX_OUTPUT] + "\n… (cut)"
    if proc.returncode:
        text += f"\n(`{command}` exited with code {proc.returncode})"
    return text, proc.returncode
