"""The macOS `sandbox-exec` profile for a sandbox policy: the same rules as bubblewrap's,
in Apple's sandbox profile language, where later rules win over earlier ones."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from glmcode.sandbox.policy import SandboxPolicy

SANDBOX_EXEC = "/usr/bin/sandbox-exec"

_BASE = """(version 1)
(deny default)
(allow process-exec process-fork)
(allow signal (target same-sandbox))
(allow sysctl-read)
(allow mach-lookup)
(allow ipc-posix-shm ipc-posix-sem)
(allow iokit-open)
(allow pseudo-tty file-ioctl)
(allow file-read*)
(allow file-write* (literal "/dev/null") (literal "/dev/tty") (literal "/dev/stdout") (literal "/dev/stderr") (regex #"^/dev/fd/"))"""


def _quote(path: Path | str) -> str:
    text = str(path).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def _filters(paths: Sequence[Path]) -> str:
    out = []
    for path in paths:
        kind = "subpath" if path.is_dir() or not path.exists() else "literal"
        out.append(f"({kind} {_quote(path)})")
    return " ".join(out)


def seatbelt_profile(policy: SandboxPolicy, temp_dir: Path) -> str:
    """The profile text: reads anywhere but the secrets, writes only in the writable folders
    and `temp_dir` (never in the protected paths), the network only when allowed."""
    lines = [_BASE]
    writable = [*policy.writable, temp_dir]
    lines.append(f"(allow file-write* {_filters(writable)})")
    if policy.protected:
        lines.append(f"(deny file-write* {_filters(policy.protected)})")
    if policy.hidden:
        lines.append(f"(deny file-read* file-write* {_filters(policy.hidden)})")
    if policy.network:
        lines.append("(allow network*)")
    else:
        # Local sockets only: the system's own services talk through them.
        lines.append('(allow network* (remote unix-socket))')
    return "\n".join(lines) + "\n"


def seatbelt_argv(policy: SandboxPolicy, temp_dir: Path, argv: Sequence[str]) -> list[str]:
    return [SANDBOX_EXEC, "-p", seatbelt_profile(policy, temp_dir), *argv]
