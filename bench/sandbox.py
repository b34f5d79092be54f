"""The sandbox's cost per command: run_shell running the same commands with and without
bubblewrap, alternately, in one process.

Run: python bench/sandbox.py [runs]
Prints, per command, the median time unsandboxed and sandboxed, the difference and the ratio,
and the difference of the fastest runs, which other work on the machine disturbs least.
Target: under 20 ms added per command.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from glmcode.sandbox.detect import detect
from glmcode.sandbox.launch import Sandbox
from glmcode.sandbox.policy import build_policy
from glmcode.tools.base import ToolContext
from glmcode.tools.run_shell import TOOL

COMMANDS = ("true", "ls -la", "git status --short", "python3 -c pass")
TARGET_MS = 20.0


def _time(ctx: ToolContext, command: str) -> float:
    start = time.perf_counter()
    result = TOOL.run(TOOL.validate({"command": command}), ctx)
    elapsed = time.perf_counter() - start
    if result.is_error:
        raise SystemExit(f"{command!r} failed: {result.output[-500:]}")
    return elapsed


def main() -> int:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    found = detect()
    if found.tool != "bwrap":
        print(f"no sandbox to measure: {found.reason}")
        return 1
    workspace = Path(tempfile.mkdtemp(prefix="glmcode-bench-sandbox-"))
    import subprocess

    subprocess.run(["git", "init", "-q", str(workspace)], check=True)
    plain = ToolContext(workspace)
    boxed = ToolContext(workspace, sandbox=Sandbox(build_policy("workspace-write", False, workspace),
                                                   "bwrap", found.path))
    worst = 0.0
    print(f"{'command':<22} {'plain ms':>9} {'sandboxed ms':>13} {'added ms':>9} {'ratio':>6} {'fastest added':>14}")
    for command in COMMANDS:
        samples: dict[str, list[float]] = {"plain": [], "boxed": []}
        for i in range(runs + 1):
            for name, ctx in (("plain", plain), ("boxed", boxed)):
                elapsed = _time(ctx, command)
                if i:  # the first round warms the caches
                    samples[name].append(elapsed)
        a, b = (statistics.median(samples[k]) * 1000 for k in ("plain", "boxed"))
        fastest = (min(samples["boxed"]) - min(samples["plain"])) * 1000
        worst = max(worst, b - a)
        print(f"{command:<22} {a:9.1f} {b:13.1f} {b - a:9.1f} {b / a:6.2f} {fastest:14.1f}")
    verdict = "within" if worst < TARGET_MS else "OVER"
    print(f"\nmost added: {worst:.1f} ms per command ({verdict} the {TARGET_MS:g} ms target)")
    return 0 if worst < TARGET_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
