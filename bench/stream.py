"""Streaming: a long answer through `glmcode exec`, at several lengths, to show the cost per
token stays flat (linear in the answer's length).

Run: python bench/stream.py
Target: a 20,000-token answer in <= 1.0 s end to end, time per 1,000 tokens flat from 2K to 100K.
"""

from __future__ import annotations

import tempfile

from _common import glmcode_cmd, scratch_env, time_command

from glmcode.testing import FakeGLM

SIZES = (2_000, 20_000, 100_000)


def answer(tokens: int) -> list[str]:
    words = ["The", " quick", " brown", " fox", " jumps", " over", " the", " lazy", " dog", ".\n"]
    return [words[i % len(words)] for i in range(tokens)]


def main() -> None:
    runs = 3
    results = {}
    for mode in ("text", "stream-json"):
        for size in SIZES:
            turns = [{"content": answer(size)}] * (runs + 1)
            with FakeGLM(turns) as fake, tempfile.TemporaryDirectory() as cwd:
                cmd = [*glmcode_cmd(), "exec", "-o", mode, "write a lot"]
                results[mode, size] = time_command(cmd, runs, env=scratch_env(fake.base_url), cwd=cwd)
    for mode in ("text", "stream-json"):
        # The fixed cost of a run (start-up, one request) is measured with a one-token answer
        # and taken off, so what is left is the cost of the tokens themselves.
        with FakeGLM([{"content": "Hi"}] * 6) as fake, tempfile.TemporaryDirectory() as cwd:
            fixed = time_command([*glmcode_cmd(), "exec", "-o", mode, "hi"], 5, env=scratch_env(fake.base_url), cwd=cwd)
        per_k = {size: (results[mode, size] - fixed) / size * 1000 for size in SIZES}
        print(f"exec -o {mode}: fixed cost of a run {fixed:.3f} s")
        for size in SIZES:
            print(f"  {size:>7,} tokens  {results[mode, size]:6.3f} s   {per_k[size] * 1000:6.2f} ms per 1K tokens")
        print(f"  per-1K cost at 100K / at 2K: {per_k[100_000] / per_k[2_000]:.2f}x (flat = linear)")
    print(f"20,000-token answer: {results['text', 20_000]:.3f} s (target <= 1.0 s)")


if __name__ == "__main__":
    main()
