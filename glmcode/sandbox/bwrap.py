"""The bubblewrap command line for a sandbox policy.

Mounts are applied in order, so later ones win: the whole file system read-only, a private
/tmp, the writable folders bound over it, the protected paths inside them bound read-only
again, and the secrets covered last.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from glmcode.sandbox.policy import SandboxPolicy


def bwrap_argv(bwrap: str, policy: SandboxPolicy, cwd: Path, argv: Sequence[str]) -> list[str]:
    """`argv` run by `bwrap` under `policy`, in `cwd`. Paths that do not exist are left out,
    as bubblewrap cannot mount over nothing, except protected folders (see below)."""
    args = [bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
            "--tmpfs", "/tmp", "--tmpfs", "/var/tmp"]
    for root in policy.roots:
        if root.is_dir():
            args += ["--ro-bind", str(root), str(root)]  # seen even when under /tmp
    for root in policy.writable:
        if root.is_dir():
            args += ["--bind", str(root), str(root)]
    for path in policy.protected:
        if path.exists():
            args += ["--ro-bind", str(path), str(path)]
        elif path.parent.is_dir() and path.name != "config":
            # An empty read-only folder stands in, so that nothing can be planted there; the
            # mount point it needs is removed after the run (`launch`).
            args += ["--tmpfs", str(path), "--remount-ro", str(path)]
    for path in policy.hidden:
        if path.is_symlink():
            continue  # its target is in the list too, and is what gets covered
        if path.is_dir():
            args += ["--tmpfs", str(path), "--remount-ro", str(path)]
        elif path.exists():
            args += ["--ro-bind", "/dev/null", str(path)]
    args += ["--unshare-pid", "--unshare-ipc"]
    if not policy.network:
        args.append("--unshare-net")
    # The sandbox's init goes when glmcode goes, and with it every process the command started.
    args += ["--die-with-parent", "--setenv", "TMPDIR", "/tmp", "--chdir", str(cwd), "--", *argv]
    return args
