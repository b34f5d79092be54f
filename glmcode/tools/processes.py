"""Commands in their own process group: started without glmcode's API keys in their
environment, waited for under a time limit and a cancel flag, and killed with everything
they started.

The model's shell commands and the fix check both run code glmcode did not write (a test
suite, a build, whatever the model chose), so both start and stop their processes here; other
programs glmcode runs (git, hooks) take their environment from `keys.child_env`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from glmcode.keys import child_env

# How often a wait looks at the process, the cancel flag and the clock.
POLL_SECONDS = 0.05
# After SIGTERM, how long the group gets to exit before SIGKILL.
KILL_GRACE = 1.0


def start(
    argv: Sequence[str],
    cwd: Path,
    *,
    env: Mapping[str, str] | None = None,
    stdout: int | IO[bytes] | None = None,
    stderr: int | IO[bytes] | None = None,
) -> subprocess.Popen[bytes]:
    """Starts `argv` in `cwd` as the leader of a new session and process group, so that
    `kill_group` reaches everything it starts. Stdin is /dev/null; the environment is
    `child_env(env)`. Raises OSError when the program cannot be started.

    A Ctrl-C that lands while the process is being started is held until `Popen` returns:
    raised inside it, nobody would hold the pid of a group that is already running. Then
    the group is killed and KeyboardInterrupt raised, as a Ctrl-C a moment later would."""
    with _interrupts_held() as caught:
        proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=child_env(env),
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
        )
    if caught:
        kill_group(proc)
        raise KeyboardInterrupt
    return proc


@contextmanager
def _interrupts_held() -> Iterator[list[int]]:
    """SIGINT during the block is noted in the list instead of raising, where Python would
    raise it (the main thread, with the default handler in place)."""
    caught: list[int] = []
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield caught
        return
    signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield caught
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def wait(
    proc: subprocess.Popen[bytes],
    timeout: float,
    *,
    cancel: threading.Event | None = None,
    idle: Callable[[float], object] | None = None,
) -> str:
    """Waits up to `timeout` seconds for `proc` to exit. Says how the wait ended: "exited",
    "timed_out" or "cancelled" (`cancel` was set). Kills nothing.

    `idle(seconds)`, when given, is called between looks instead of sleeping, to do something
    useful (read the output) for at most that long."""
    deadline = time.monotonic() + timeout
    while True:
        if cancel is not None and cancel.is_set():
            return "cancelled"
        if proc.poll() is not None:
            return "exited"
        left = deadline - time.monotonic()
        if left <= 0:
            return "timed_out"
        step = min(POLL_SECONDS, left)
        if idle is not None:
            idle(step)
            continue
        try:
            proc.wait(timeout=step)
        except subprocess.TimeoutExpired:
            pass


def kill_group(proc: subprocess.Popen[bytes], grace: float = KILL_GRACE) -> None:
    """SIGTERM to the whole group `start` made for `proc`, then SIGKILL to whatever is still
    alive after `grace` seconds. Returns once the group is gone and `proc` is reaped (or, for
    processes that cannot die at once, after a second grace)."""
    pgid = proc.pid  # the leader's pid is the group's id
    for sig in (signal.SIGTERM, signal.SIGKILL):
        _signal_group(pgid, sig)
        if _gone_within(proc, pgid, grace):
            break
    _reap(proc, grace)


def _reap(proc: subprocess.Popen[bytes], seconds: float) -> None:
    """Collects the leader's exit status. An interrupt that landed inside an earlier
    `Popen.wait` can leave Popen's own lock taken, and a plain `wait()` would then block for
    ever; so wait with a limit, and take the status straight from the kernel after it."""
    try:
        proc.wait(timeout=seconds)
        return
    except subprocess.TimeoutExpired:
        pass
    try:
        pid, status = os.waitpid(proc.pid, os.WNOHANG)
    except ChildProcessError:
        return
    if pid:
        proc.returncode = os.waitstatus_to_exitcode(status)


def group_alive(pgid: int) -> bool:
    """Whether any process of the group is still running; zombies count as dead."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # The group may hold only zombies: orphans whose new parent has not reaped them yet.
    # They are dead already; waiting for them would only spend the whole grace.
    proc_dir = Path("/proc")
    if not proc_dir.is_dir():
        return True
    for entry in os.scandir(proc_dir):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            return True
    return False


def _gone_within(proc: subprocess.Popen[bytes], pgid: int, seconds: float) -> bool:
    give_up = time.monotonic() + seconds
    while True:
        proc.poll()  # reap the leader, or it would count as alive
        if not group_alive(pgid):
            return True
        if time.monotonic() >= give_up:
            return False
        time.sleep(POLL_SECONDS / 5)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass
