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
import sys
import tempfile
from pathlib import Path

from _common import glmcode_cmd, scratch_env, time_command

from glmcode.testing import FakeGLM

BARE_CLIENT = """\
import json, sys
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs

    baseline = time_command([sys.executable, "-c", "pass"], runs)
    version = time_command([*glmcode_cmd(), "--version"], runs)
    # One turn per glmcode run, one per bare run, and one to record the body.
    script = [{"content": "Hello!"}] * (2 * runs + 3)
    with FakeGLM(script) as fake, tempfile.TemporaryDirectory() as cwd:
        env = scratch_env(fake.base_url)
        turn = time_command([*glmcode_cmd(), "exec", "hello"], runs, env=env, cwd=cwd)
        body_file = Path(cwd, "body.json")
        body_file.write_text(json.dumps(fake.requests[-1].body), encoding="utf-8")
        bare = time_command(
            [sys.executable, "-c", BARE_CLIENT, fake.base_url + "/chat/completions", str(body_file)],
            runs, env=env, cwd=cwd,
        )

    print(f"python -c pass          {baseline * 1000:7.1f} ms")
    print(f"glmcode --version       {version * 1000:7.1f} ms   {version / baseline:4.2f}x python  (target < 2x, <= 100 ms)")
    print(f"glmcode exec (1 turn)   {turn * 1000:7.1f} ms   {turn / baseline:4.2f}x python  (target <= 350 ms)")
    print(f"bare httpx client       {bare * 1000:7.1f} ms   same POST, same fake server")
    print(f"exec turn / bare client {turn / bare:7.2f}x     (target <= 1.3x)")


if __name__ == "__main__":
    main()
