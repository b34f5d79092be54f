"""How a command actually starts: inside the sandbox when there is one, under the process
limit always, and what is left to tidy once it has ended."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from glmcode.sandbox.bwrap import bwrap_argv
from glmcode.sandbox.cgroup import PidsCgroup
from glmcode.sandbox.limits import Limits, with_nproc
from glmcode.sandbox.policy import SandboxPolicy
from glmcode.sandbox.seatbelt import seatbelt_argv


@dataclass(frozen=True)
class Sandbox:
    """A policy and the program that enforces it ("bwrap" or "sandbox-exec" at `path`)."""

    policy: SandboxPolicy
    tool: str
    path: str
    # A setuid bubblewrap makes no user namespace of its own, and the process limit then
    # counts all of the user's processes, as it does outside the sandbox.
    own_user_namespace: bool = True

    def describe(self) -> str:
        network = "network allowed" if self.policy.network else "no network"
        return f"{self.policy.mode}, {network} ({self.tool})"


@dataclass
class Launch:
    argv: list[str]
    cgroup: PidsCgroup | None = None
    mount_points: list[Path] = field(default_factory=list)  # made for the run, removed after

    def finish(self) -> None:
        """After the command and everything it started are gone."""
        if self.cgroup is not None:
            self.cgroup.remove()
        for path in self.mount_points:
            try:
                path.rmdir()  # only while still empty: nothing of the user's is removed
            except OSError:
                pass


def launch(argv: Sequence[str], cwd: Path, sandbox: Sandbox | None, limits: Limits) -> Launch:
    command = list(argv)
    made: list[Path] = []
    if sandbox is None:
        command = with_nproc(command, limits.max_processes, own_namespace=False)
    elif sandbox.tool == "bwrap":
        made = [p for p in sandbox.policy.protected
                if not p.exists() and p.parent.is_dir() and p.name != "config"]
        # Inside the sandbox's own user namespace the limit counts only the sandbox.
        inner = with_nproc(command, limits.max_processes, own_namespace=sandbox.own_user_namespace)
        command = bwrap_argv(sandbox.path, sandbox.policy, cwd, inner)
    else:
        temp = Path(tempfile.gettempdir()).resolve()
        command = seatbelt_argv(sandbox.policy, temp, command)
    root = hasattr(os, "geteuid") and os.geteuid() == 0
    cgroup = PidsCgroup.create(limits.max_processes) if root else None
    if cgroup is not None:
        command = cgroup.enter(command)
    return Launch(command, cgroup, made)
