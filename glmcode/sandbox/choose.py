"""Which sandbox a session's commands get, from the settings and what the machine can do;
and the one thing to tell the user at the start when there is none."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from glmcode.sandbox.detect import Availability, detect
from glmcode.sandbox.launch import Sandbox
from glmcode.sandbox.policy import build_policy


@dataclass(frozen=True)
class Choice:
    sandbox: Sandbox | None
    state: str  # as the status line and `glmcode config` show it
    notice: str | None = None  # for the user, once, at the start


def choose_sandbox(
    mode: str,
    network: bool,
    workspace: Path,
    extra_dirs: Sequence[Path] = (),
    env: Mapping[str, str] | None = None,
    *,
    probe: Callable[[Mapping[str, str] | None], Availability] = detect,
) -> Choice:
    if mode == "off":
        return Choice(None, "off")
    found = probe(env)
    if found.tool is None:
        return Choice(None, "unavailable", (
            f"Commands cannot be sandboxed: {found.reason}. Until they can, every shell command "
            "that does more than read asks first, except in full-auto mode (see docs/sandbox.md)."))
    policy = build_policy(mode, network, workspace, extra_dirs, env)
    setuid = found.tool == "bwrap" and bool(os.stat(found.path).st_mode & stat.S_ISUID)
    sandbox = Sandbox(policy, found.tool, found.path, own_user_namespace=not setuid)
    return Choice(sandbox, mode + ("+network" if network else ""))
