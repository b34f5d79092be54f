"""What the sandbox tests share: whether real bubblewrap works here, and a tool context whose
commands run in it."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from glmcode.sandbox.detect import detect
from glmcode.sandbox.launch import Sandbox
from glmcode.sandbox.limits import Limits
from glmcode.sandbox.policy import build_policy
from glmcode.tools.base import ToolContext, ToolResult
from glmcode.tools.run_shell import TOOL

_FOUND = detect()
needs_bwrap = pytest.mark.skipif(
    _FOUND.tool != "bwrap", reason=f"no working bubblewrap here: {_FOUND.reason or _FOUND.tool}"
)


def sandboxed(workspace: Path, *, mode: str = "workspace-write", network: bool = False,
              extra: tuple[Path, ...] = (), limits: Limits | None = None) -> ToolContext:
    policy = build_policy(mode, network, workspace, extra)
    return ToolContext(workspace, extra_dirs=extra, sandbox=Sandbox(policy, "bwrap", _FOUND.path),
                       limits=limits or Limits())


def shell(ctx: ToolContext, command: str, **args: object) -> ToolResult:
    return TOOL.run(TOOL.validate({"command": command, **args}), ctx)


@pytest.fixture
def disk_dir() -> Iterator[Path]:
    """A fresh folder outside /tmp. The sandbox gives commands a /tmp of their own, so a write
    there never reaches the disk whatever else the sandbox does; escapes are judged here."""
    base = Path(__file__).resolve().parent.parent
    if base.is_relative_to("/tmp"):
        pytest.skip("the checkout is under /tmp, so there is no folder outside it to test with")
    path = Path(tempfile.mkdtemp(prefix=".sandbox-test-", dir=base))
    yield path
    shutil.rmtree(path, ignore_errors=True)
