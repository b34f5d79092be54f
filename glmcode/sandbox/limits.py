"""Bounds on every command glmcode runs for the model, sandboxed or not: how long it may run,
how much it may print, how many processes it may have at once."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    timeout: float = 120.0  # seconds, when the model names none
    max_timeout: float = 600.0  # the most the model may ask for
    max_output: int = 64 * MB  # bytes of stdout and stderr together; the command is stopped past it
    max_processes: int = 512  # at once, in the sandbox (or above what the user already runs)


def limits_from(timeout: float, max_output_mb: int, max_processes: int) -> Limits:
    """The model may ask for a longer timeout than the default, up to ten minutes or the
    default itself when that is longer."""
    return Limits(timeout=timeout, max_timeout=max(600.0, timeout),
                  max_output=max_output_mb * MB, max_processes=max_processes)


def nproc_argv(limit: int) -> list[str]:
    """A prefix that sets RLIMIT_NPROC, soft and hard, before `exec`ing the command; the
    command cannot raise a hard limit again."""
    prlimit = shutil.which("prlimit")
    if prlimit is not None:
        return [prlimit, f"--nproc={limit}", "--"]
    return ["/bin/sh", "-c", 'ulimit -u "$0" && exec "$@"', str(limit)]


def user_processes(proc: Path = Path("/proc")) -> int:
    """How many processes this user runs now. Outside a user namespace RLIMIT_NPROC counts
    all of them, so a limit on one command has to start from there."""
    uid = os.getuid()
    total = 0
    try:
        entries = os.scandir(proc)
    except OSError:
        return 0
    with entries:
        for entry in entries:
            if not entry.name.isdigit():
                continue
            try:
                if entry.stat(follow_symlinks=False).st_uid == uid:
                    total += 1
            except OSError:
                continue
    return total


def with_nproc(argv: Sequence[str], limit: int, *, own_namespace: bool) -> list[str]:
    """`argv` under a process limit. Root is exempt from RLIMIT_NPROC (`cgroup` bounds it
    instead), so for root nothing is added."""
    # Elsewhere than Linux the limit counts every process of the user, with none to count from.
    if not sys.platform.startswith("linux") or os.geteuid() == 0:
        return list(argv)
    if not own_namespace:
        limit += user_processes()
    return [*nproc_argv(limit), *argv]
