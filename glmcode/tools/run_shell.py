"""The run_shell tool: a bash command in the workspace, in the sandbox when there is one
(`glmcode.sandbox`), in its own process group so that a timeout, a cancel or Ctrl-C can kill
everything it started (see `processes`), under limits on time, output and processes."""

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
from typing import Any

from glmcode.sandbox.launch import launch
from glmcode.sandbox.limits import MB
from glmcode.sandbox.refusals import process_limit_hit, sandbox_refusal
from glmcode.tools import processes
from glmcode.tools.base import Param, Tool, ToolContext, ToolError, ToolResult, description_beside
from glmcode.tools.truncate import MAX_CHARS, head_tail

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


def run(args: dict[str, Any], ctx: ToolContext) -> ToolResult:
    command = args["command"]
    if not command.strip():
        raise ToolError("run_shell: command is empty")
    limits = ctx.limits
    timeout = float(args["timeout"]) if args["timeout"] is not None else limits.timeout
    if timeout <= 0:
        raise ToolError("run_shell: timeout must be more than 0 seconds")
    notes = []
    if timeout > limits.max_timeout:
        notes.append(
            f"The timeout of {timeout:g} s is over the {limits.max_timeout:g} s maximum; "
            f"{limits.max_timeout:g} s was used."
        )
        timeout = limits.max_timeout
    if not ctx.workspace.is_dir():
        raise ToolError(f"run_shell: the workspace {ctx.workspace} is not a folder")
    outcome = execute(command, ctx.workspace, timeout, ctx)
    if outcome.output_limited:
        notes.append(
            f"Command stopped: it printed more than {limits.max_output // MB} MB "
            "(the output limit); the process group was killed."
        )
    elif outcome.timed_out:
        notes.append(f"Command timed out after {timeout:g} s; the process group was killed.")
    elif outcome.cancelled:
        notes.append("Command cancelled; the process group was killed.")
    else:
        notes.append(f"Exit code: {outcome.exit_code}")
    if outcome.detached:
        notes.append(
            "Processes started in the background still hold the output; what they print "
            "from now on is not shown."
        )
    failed = outcome.exit_code != 0 or outcome.timed_out or outcome.cancelled or outcome.output_limited
    refusal = _sandbox_note(outcome, ctx, notes) if failed else None
    budget = MAX_CHARS // max(1, bool(outcome.stdout) + bool(outcome.stderr))
    output = _render(notes, outcome.stdout, outcome.stderr)
    for_model = _render(
        notes,
        head_tail(outcome.stdout, max_chars=budget),
        head_tail(outcome.stderr, max_chars=budget),
    )
    return ToolResult(
        output=output,
        is_error=failed,
        model_output=None if for_model == output else for_model,
        data={
            "exit_code": outcome.exit_code,
            "timed_out": outcome.timed_out,
            "duration": round(outcome.duration, 3),
            **({"sandbox": ctx.sandbox.policy.mode} if ctx.sandbox is not None else {}),
            **({"sandbox_refusal": refusal} if refusal else {}),
        },
    )


def _sandbox_note(outcome: Outcome, ctx: ToolContext, notes: list[str]) -> str | None:
    """Says when a failure looks like the sandbox's or the process limit's doing; returns the
    sandbox's reason, for the offer to run the command outside it."""
    said = outcome.stderr + "\n" + outcome.stdout
    if process_limit_hit(said):
        notes.append(
            f"Processes were refused: the command reached the limit of "
            f"{ctx.limits.max_processes} processes at once."
        )
    if ctx.sandbox is None:
        return None
    if outcome.exit_code == 1 and outcome.stderr.startswith("bwrap: "):
        first = outcome.stderr.splitlines()[0]
        notes.append(f"The sandbox could not start ({first}); the command did not run.")
        return f"it could not start ({first})"
    reason = sandbox_refusal(said, ctx.sandbox.policy)
    if reason is not None:
        notes.append(f"The sandbox may have caused this failure: {reason}.")
    return reason


def _render(notes: list[str], stdout: str, stderr: str) -> str:
    parts = list(notes)
    for name, text in (("stdout", stdout), ("stderr", stderr)):
        if text:
            body = text.rstrip("\n")
            parts.append(f"<{name}>\n{body}\n</{name}>")
    if not stdout and not stderr:
        parts.append("(no output)")
    return "\n".join(parts)


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


TOOL = Tool(
    name="run_shell",
    description=description_beside(__file__, "run_shell"),
    params=(
        Param("command", "string", "The bash command to run."),
        Param(
            "timeout",
            "number",
            "Seconds before the command is killed (default 120, at most 600).",
            required=False,
        ),
        Param(
            "description",
            "string",
            "A few words on what the command does, shown to the user.",
            required=False,
        ),
    ),
    kind="shell",
    run=run,
)
