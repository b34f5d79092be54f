"""Start-up: `glmcode --version` and one trivial headless turn, against `python -c pass`, and
the turn against a bare httpx client making the same request.

Run: python bench/startup.py [--runs N]
Targets: --version under 2x `python -c pass` (and <= 0.10 s); a trivial turn <= 0.35 s and
at most 1.3x the bare client.

The bare client is a fresh `python -c` process that imports httpx, posts the very body
glmcode sent (recorded from one `glmcode exec` against the same fake server) with the same
headers, and reads the stream to its end: the least any Python client can do for this turn.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import glmcode_cmd, scratch_env, time_command

from glmcode.testing import FakeGLM

BARE_CLIENT = """\
import json, sys
sys.modules["httpx._main"] = None  # as glmcode does: no httpx command-line tool (click, rich)
import httpx
url, body_file = sys.argv[1], sys.argv[2]
with open(body_file, encoding="utf-8") as f:
    body = json.load(f)
headers = {"Authorization": "Bearer bench-key", "Accept": "text/event-stream"}
with httpx.Client() as client, client.stream("POST", url, json=body, headers=headers) as reply:
    reply.raise_for_status()
    for line in reply.iter_lines():
        pass
"""


def _once(cmd: list[str], env: dict[str, str], cwd: str) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed ({proc.returncode}): {proc.stderr.decode()[-500:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs

    baseline = time_command([sys.executable, "-c", "pass"], runs)
    version = time_command([*glmcode_cmd(), "--version"], runs)
    # Two warm-up runs of each, then one turn per timed run of each.
    script = [{"content": "Hello!"}] * (2 * runs + 4)
    with FakeGLM(script) as fake, tempfile.TemporaryDirectory() as cwd:
        env = scratch_env(fake.base_url)
        # An installed glmcode runs from compiled bytecode; with PYTHONDONTWRITEBYTECODE set
        # (as in some shells and CI) the editable checkout would be recompiled every run.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        turn_cmd = [*glmcode_cmd(), "exec", "hello"]
        time_command(turn_cmd, 1, env=env, cwd=cwd)  # warm-up, and the body to replay
        body_file = Path(cwd, "body.json")
        body_file.write_text(json.dumps(fake.requests[-1].body), encoding="utf-8")
        bare_cmd = [sys.executable, "-c", BARE_CLIENT, fake.base_url + "/chat/completions", str(body_file)]
        time_command(bare_cmd, 1, env=env, cwd=cwd)
        # Alternated, so both see the same machine: a busy moment slows one pair, not one side.
        turns, bares = [], []
        for _ in range(runs):
            turns.append(_once(turn_cmd, env, cwd))
            bares.append(_once(bare_cmd, env, cwd))
        turn, bare = statistics.median(turns), statistics.median(bares)

    print(f"python -c pass          {baseline * 1000:7.1f} ms")
    print(f"glmcode --version       {version * 1000:7.1f} ms   {version / baseline:4.2f}x python  (target < 2x, <= 100 ms)")
    print(f"glmcode exec (1 turn)   {turn * 1000:7.1f} ms   {turn / baseline:4.2f}x python  (target <= 350 ms)")
    print(f"bare httpx client       {bare * 1000:7.1f} ms   same POST, same fake server")
    print(f"exec turn / bare client {turn / bare:7.2f}x     (target <= 1.3x)")


if __name__ == "__main__":
    main()
