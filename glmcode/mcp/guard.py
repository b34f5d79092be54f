"""Runs one stdio MCP server for glmcode on Linux, and ends it with every process it started when
glmcode dies, even by SIGKILL, which no shutdown code of glmcode's ever sees.

    python -I -S guard.py GLMCODE_PID EXECUTABLE ARGV0 [ARGS...]

The SDK starts this as the leader of a new process group, and the server runs in that same
group: the SDK's own shutdown (stdin closed, then SIGTERM and SIGKILL to the group) reaches it
exactly as it reached a server started directly. The kernel signals the guard when glmcode goes
(PR_SET_PDEATHSIG); the guard then ends the group. When the server exits, whatever it started
and left in the group is ended too, and so is what it started that left the group (a daemon's
`setsid`): as the child subreaper, the guard inherits those once their parent is gone.

It sits in front of every server start, so it imports nothing beyond the standard library's
core, and glmcode runs it in isolated mode, away from any site-packages.
"""

import ctypes
import os
import signal
import sys
import time

_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36
# As long as the SDK gives a group after SIGTERM: a process may still shut down cleanly.
_GRACE_S = 2.0
# How often, within the grace, the guard looks for processes that came to it from outside the group.
_POLL_S = 0.1
_WATCHED = {signal.SIGTERM, signal.SIGCHLD}


def main(argv: list[str]) -> int:
    parent, executable, args = int(argv[1]), argv[2], argv[3:]
    if os.getpgrp() != os.getpid():
        # The SDK makes the guard a group's leader; started any other way, the group it ends
        # must still be its own, never its starter's.
        os.setsid()
    # Blocked before anything can arrive and taken with sigwait: nothing interrupts the spawn,
    # and a signal that comes early waits for the loop below.
    inherited = signal.pthread_sigmask(signal.SIG_BLOCK, _WATCHED)
    libc = ctypes.CDLL(None, use_errno=True)
    # A guard the kernel refuses still runs the server, as glmcode did before it had one.
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    # What the server starts and leaves behind comes to the guard, so it knows when all is gone.
    libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    if os.getppid() != parent:
        return 1  # glmcode died before the kernel was asked to say so
    try:
        # Python ignores SIGPIPE and SIGXFSZ for itself; a server gets them back, as subprocess does.
        server = os.posix_spawn(executable, args, os.environ, setsigmask=inherited,
                                setsigdef=(signal.SIGPIPE, signal.SIGXFSZ))
    except OSError as exc:
        sys.stderr.write(f"glmcode: cannot start {args[0]}: {exc.strerror}\n")
        return 127 if isinstance(exc, FileNotFoundError) else 126
    # The server holds stdin and stdout now: the guard's copies would keep glmcode from seeing
    # the end of the server's output once it exits.
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.close(null)
    status = None
    while status is None:
        if signal.sigwait(_WATCHED) == signal.SIGCHLD:
            status = _reap(server)[0]
        elif os.getppid() != parent:
            status = 1
        # Else glmcode signalled the whole group, the server too: it ends on its own, or the SDK
        # follows with SIGKILL.
    _end_group(server)
    return status


def _reap(server: int) -> tuple[int | None, bool]:
    """Reaps every child that ended: the server's exit status if it was one of them, and
    whether any child is left."""
    status = None
    while True:
        try:
            pid, wait_status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return status, False
        if not pid:
            return status, True
        if pid == server:
            code = os.waitstatus_to_exitcode(wait_status)
            status = code if code >= 0 else 128 - code


def _end_group(server: int) -> None:
    """Ends what is left of the group (the server too, when glmcode is gone), giving it the
    grace; and what left the group (`setsid`, a daemon's double fork) once it has come to the
    guard, which it does when the process that started it is gone."""
    os.killpg(0, signal.SIGTERM)  # the guard's own stays blocked
    told: set[int] = set()
    deadline = time.monotonic() + _GRACE_S
    while _reap(server)[1]:
        told |= _signal_children(signal.SIGTERM, told)
        left = deadline - time.monotonic()
        if left > 0:
            signal.sigtimedwait({signal.SIGCHLD}, min(left, _POLL_S))
        else:
            # Those that would not go, and the guard with them: nobody waits for its status now.
            _signal_children(signal.SIGKILL, set())
            os.killpg(0, signal.SIGKILL)


def _signal_children(signum: int, skip: set[int]) -> set[int]:
    """Signals the guard's children not in `skip`; the pids signalled."""
    signalled = set()
    for pid in _children() - skip:
        try:
            os.kill(pid, signum)
            signalled.add(pid)
        except ProcessLookupError:
            pass
    return signalled


def _children() -> set[int]:
    me = os.getpid()
    found = set()
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as stat:
                # The parent's pid is the second field after the name, which may hold spaces.
                if int(stat.read().rpartition(")")[2].split()[1]) == me:
                    found.add(int(name))
        except (OSError, ValueError, IndexError):
            pass  # gone while being read
    return found

if __name__ == "__main__":
    sys.exit(main(sys.argv))
