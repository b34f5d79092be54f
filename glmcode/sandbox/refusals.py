"""Telling, from a failed command's output, that the sandbox refused something, so the model
is told why and the user can be offered a run outside it."""

from __future__ import annotations

from glmcode.sandbox.policy import SandboxPolicy

_WRITE = ("Read-only file system",)
_NETWORK = ("Network is unreachable", "Temporary failure in name resolution",
            "Could not resolve host", "Name or service not known", "getaddrinfo failed",
            "No address associated with hostname", "Failed to establish a new connection",
            "nodename nor servname provided", "Could not resolve hostname",
            "Network unreachable", "Connection refused",
            "(from versions: none)")  # pip, when its index cannot be reached
_FORK = ("fork: Resource temporarily unavailable", "fork: retry: Resource temporarily unavailable",
         "Cannot fork", "BlockingIOError: [Errno 11]", "can't fork")


def sandbox_refusal(output: str, policy: SandboxPolicy) -> str | None:
    """Why the sandbox may have made the command fail, or None when nothing in its output
    points at the sandbox."""
    if any(text in output for text in _WRITE):
        where = "the workspace and the added folders" if not policy.read_only else "nothing"
        return ("a write was refused: the sandbox keeps the file system read-only outside "
                f"{where} (and .git/hooks, .git/config and .glmcode/ read-only everywhere)")
    if not policy.network and any(text in output for text in _NETWORK):
        return ("the network is unreachable: the sandbox runs commands without network access "
                "(even 127.0.0.1 is the sandbox's own)")
    return None


def process_limit_hit(output: str) -> bool:
    return any(text in output for text in _FORK)
