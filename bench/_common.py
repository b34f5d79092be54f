"""Shared by the benchmarks: timing whole commands, and a scratch home with a key."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GLMCODE = shutil.which("glmcode", path=str(Path(sys.executable).parent)) or shutil.which("glmcode")


def glmcode_cmd() -> list[str]:
    """The installed console script, as a user runs it; `python -m glmcode` when absent."""
    return [GLMCODE] if GLMCODE else [sys.executable, "-m", "glmcode"]


def scratch_env(base_url: str | None = None) -> dict[str, str]:
    home = Path(tempfile.mkdtemp(prefix="glmcode-bench-"))
    env = dict(os.environ)
    env.update({
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_STATE_HOME": str(home / ".state"),
        "ZAI_API_KEY": "bench-key",
        "NO_PROXY": "127.0.0.1",
    })
    if base_url:
        env["GLMCODE_BASE_URL"] = base_url
    return env


def time_command(cmd: list[str], runs: int, env: dict[str, str] | None = None,
                 cwd: str | None = None) -> float:
    """Median wall time of `runs` runs, after one warm-up run."""
    samples = []
    for i in range(runs + 1):
        start = time.perf_counter()
        proc = subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        elapsed = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.decode()[-500:]}")
        if i:
            samples.append(elapsed)
    return statistics.median(samples)
