"""One shell command as a process: started through the sandbox's launcher when there is one,
in its own process group, its output read while it runs and bounded, killed with its group on
a timeout, a cancel, the output limit or Ctrl-C (see `processes`)."""

from __future__ import annotations

import os
import selectors
import shutil
import subprocess
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from glmcode.sandbox.launch import launch
from glmcode.tools import processes
from glmcode.tools.base import ToolContext, ToolError

# After the shell exits, how long to keep reading from background processes that still hold
# its output pipes before returning without them.
DRAIN_GRACE = 0.5
# Per stream, the first and the last this many bytes are kept; a command that prints without
# end must not exhaust memory.
KEEP_BYTES = 8 * 1024 * 1024

PAGER_OFF = {"PAGER": "cat", "GIT_PAGER": "cat", "GLMCODE": "1"}


@dataclass
class Capture:
    """One output stream: the start kept whole, then a rolling window over the end."""

    keep: int = KEEP_BYTES
    head: bytearray = field(default_factory=bytearray)
    tail: deque[bytes] = field(default_factory=deque)
    tail_size: int = 0
    dropped: int = 0
    total: int = 0

    def add(self, chunk: bytes) -> None:
        self.total += len(chunk)
        room = self.keep - len(self.head)
        if room > 0:
            self.head += chunk[:room]
            chunk = chunk[room:]
        if not chunk:
            return
        self.tail.append(chunk)
        self.tail_size += len(chunk)
        while self.tail_size - len(self.tail[0]) >= self.keep:
            self.dropped += len(self.tail[0])
            self.tail_size -= len(self.tail.popleft())

    def text(self) -> str:
        head = self.head.decode("utf-8", errors="replace")
        tail = b"".join(self.tail).decode("utf-8", errors="replace")
        if not self.dropped:
            return head + tail
        return f"{head}\n... {self.dropped} bytes of output not kept ...\n{tail}"


@dataclass
class Outcome:
    exit_code: int | None
    stdout: str
    stderr: str
    duration: float
    timed_out: bool = False
    cancelled: bool = False
    detached: bool = False
    output_limited: bool = False


def execute(command: str, cwd: Path, timeout: float, ctx: ToolContext) -> Outcome:
    """Runs `command` and waits for it, killing its process group on timeout, on
    `ctx.cancel` or on KeyboardInterrupt (re-raised once the group is gone)."""
    started = time.monotonic()
    run = launch([*_shell(), command], cwd, ctx.sandbox, ctx.limits)
    try:
        try:
            proc = processes.start(
                run.argv, cwd, env=PAGER_OFF, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
        except OSError as exc:
            raise ToolError(f"run_shell: could not start the shell: {exc}") from exc
        # From here on a Ctrl-C, wherever it lands, takes the command's group with it.
        try:
            return _collect(proc, timeout, ctx, started)
        except KeyboardInterrupt:
            processes.kill_group(proc)
            raise
    finally:
        run.finish()


def _collect(proc: subprocess.Popen[bytes], timeout: float, ctx: ToolContext, started: float) -> Outcome:
    """Reads the output while waiting; kills the group on timeout or cancel."""
    out, err = Capture(), Capture()
    streams = {proc.stdout.fileno(): out, proc.stderr.fileno(): err}  # type: ignore[union-attr]
    too_much = threading.Event()
    # The output limit ends the wait as a cancel would; the two are told apart afterwards.
    stop = _Either(ctx.cancel, too_much)
    try:
        with selectors.DefaultSelector() as sel:
            for fd in streams:
                os.set_blocking(fd, False)
                sel.register(fd, selectors.EVENT_READ)

            def read_while_waiting(seconds: float) -> None:
                if sel.get_map():
                    _read_ready(sel, streams, seconds)
                    if out.total + err.total > ctx.limits.max_output:
                        too_much.set()
                else:
                    try:
                        proc.wait(timeout=seconds)
                    except subprocess.TimeoutExpired:
                        pass

            try:
                ending = processes.wait(proc, timeout, cancel=stop, idle=read_while_waiting)  # type: ignore[arg-type]
                if ending == "cancelled" and too_much.is_set() and not ctx.cancel.is_set():
                    ending = "output_limited"
                if ending == "exited":
                    ending = _drain(sel, streams)
                else:
                    processes.kill_group(proc)
            finally:
                _read_ready(sel, streams, 0)
    finally:
        proc.stdout.close()  # type: ignore[union-attr]
        proc.stderr.close()  # type: ignore[union-attr]
    return Outcome(
        exit_code=proc.returncode,
        stdout=out.text(),
        stderr=err.text(),
        duration=time.monotonic() - started,
        timed_out=ending == "timed_out",
        cancelled=ending == "cancelled",
        detached=ending == "detached",
        output_limited=ending == "output_limited",
    )


@dataclass(frozen=True)
class _Either:
    """Set when either event is: what `processes.wait` looks at as its cancel flag."""

    first: threading.Event
    second: threading.Event

    def is_set(self) -> bool:
        return self.first.is_set() or self.second.is_set()


def _drain(sel: selectors.BaseSelector, streams: dict[int, Capture]) -> str:
    """After the shell has exited, reads its output to the end: "exited", or "detached" when
    background processes still hold the pipes open after DRAIN_GRACE."""
    give_up = time.monotonic() + DRAIN_GRACE
    while sel.get_map():
        left = give_up - time.monotonic()
        if left <= 0:
            return "detached"
        _read_ready(sel, streams, left)
    return "exited"


def _read_ready(sel: selectors.BaseSelector, streams: dict[int, Capture], wait: float) -> None:
    """Reads whatever is available within `wait` seconds; a stream at its end is dropped
    from the selector."""
    for key, _ in sel.select(wait):
        fd = key.fd
        while True:
            try:
                chunk = os.read(fd, 65536)
            except BlockingIOError:
                break
            if not chunk:
                sel.unregister(fd)
                break
            streams[fd].add(chunk)


def _shell() -> list[str]:
    bash = shutil.which("bash")
    return [bash, "-c"] if bash else ["/bin/sh", "-c"]
