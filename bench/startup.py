"""Start-up: `glmcode --version` and one trivial headless turn, against `python -c pass`.

Run: python bench/startup.py [--runs N]
Targets: --version under 2x `python -c pass` (and <= 0.10 s); a trivial turn <= 0.35 s.
"""

from __future__ import annotations

import argparse
import sys
import tempfile

from _common import glmcode_cmd, scratch_env, time_command

from glmcode.testing import FakeGLM


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs

    baseline = time_command([sys.executable, "-c", "pass"], runs)
    version = time_command([*glmcode_cmd(), "--version"], runs)
    with FakeGLM([{"content": "Hello!"}] * (runs + 1)) as fake, tempfile.TemporaryDirectory() as cwd:
        turn = time_command([*glmcode_cmd(), "exec", "hello"], runs, env=scratch_env(fake.base_url), cwd=cwd)

    print(f"python -c pass          {baseline * 1000:7.1f} ms")
    print(f"glmcode --version       {version * 1000:7.1f} ms   {version / baseline:4.2f}x python  (target < 2x, <= 100 ms)")
    print(f"glmcode exec (1 turn)   {turn * 1000:7.1f} ms   {turn / baseline:4.2f}x python  (target <= 350 ms)")


if __name__ == "__main__":
    main()
