"""Running one hook command: through the shell, in its own process group, with the event's JSON
on standard input, without glmcode's API key in its environment, and killed with everything it
started once it outlives its time limit."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from glmcode.keys import child_env
from glmcode.tools.processes import kill_group

# What glmcode keeps of a hook's stdout and stderr: it reads a decision or a few lines of
# context, never a log file.
MAX_OUTPUT = 64_000


@dataclass(frozen=True)
class Finished:
    exit_code: int | None  # None: killed at its time limit, or it could not be started
    stdout: str
    stderr: str
    duration: float
    timed_out: bool = False


def run_hook(command: str, stdin: str, cwd: Path, timeout_s: float, env: Mapping[str, str]) -> Finished:
    started = time.monotonic()
    data = stdin.encode("utf-8")
    try:
        proc = subprocess.Popen(
            ["/bin/sh", "-c", command],
            cwd=cwd,
            env=child_env(env),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as exc:
        return Finished(None, "", f"could not start: {exc.strerror or exc}", time.monotonic() - started)
    try:
        out, err = proc.communicate(data, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        kill_group(proc)
        out, err = _leftovers(proc)
        return Finished(None, _text(out), _text(err), time.monotonic() - started, timed_out=True)
    except BaseException:
        kill_group(proc)  # an interrupt must not leave the hook running
        raise
    return Finished(proc.returncode, _text(out), _text(err), time.monotonic() - started)


def _leftovers(proc: subprocess.Popen[bytes]) -> tuple[bytes, bytes]:
    """What the killed group wrote; a process that left the group may still hold the pipes,
    so this does not wait for them to close."""
    try:
        return proc.communicate(timeout=1.0)
    except (subprocess.TimeoutExpired, ValueError, OSError):
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
        return b"", b""


def _text(data: bytes | None) -> str:
    text = (data or b"").decode("utf-8", errors="replace")
    return text if len(text) <= MAX_OUTPUT else text[:MAX_OUTPUT] + "\n… (cut)"
