"""The agent loop's own cost: a 100-step scripted session (reads, greps, edits) against the
fake server, in one process.

Run: python bench/loop.py
Prints the loop's time per step (total minus model and tool time) and the share of each
request's characters that repeat the previous request (the prefix GLM's cache can reuse).
Targets: under 10 ms per step, over 95 % prefix share.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from glmcode.agent.context import build_system_prompt
from glmcode.agent.drive import drive
from glmcode.agent.loop import Agent
from glmcode.agent.tool_calls import ToolRunner
from glmcode.events import Event, ToolCallFinished
from glmcode.llm.client import GLMClient
from glmcode.llm.types import ClientConfig
from glmcode.permissions.policy import Policy
from glmcode.testing import FakeGLM
from glmcode.tools.base import ToolContext
from glmcode.tools.registry import Registry

STEPS = 100


class TimedClient:
    """Counts the time spent waiting on the model (inside the client's stream)."""

    def __init__(self, inner: GLMClient) -> None:
        self.inner = inner
        self.seconds = 0.0

    @property
    def model(self) -> str:
        return self.inner.model

    def stream(self, messages: list[dict[str, Any]], tools: Any = None) -> Iterator[Any]:
        it = iter(self.inner.stream(messages, tools))
        while True:
            start = time.perf_counter()
            try:
                item = next(it)
            except StopIteration:
                self.seconds += time.perf_counter() - start
                return
            self.seconds += time.perf_counter() - start
            yield item


def script() -> list[dict[str, Any]]:
    turns: list[dict[str, Any]] = []
    for step in range(STEPS):
        kind = step % 3
        if kind == 0:
            call = {"name": "read_file", "arguments": {"path": f"src/mod{step % 10}.py"}}
        elif kind == 1:
            call = {"name": "grep", "arguments": {"pattern": f"counter_{step}", "path": "src"}}
        else:
            call = {"name": "edit_file", "arguments": {"path": f"src/mod{step % 10}.py",
                                                       "old_string": f"counter_{step} = 0",
                                                       "new_string": f"counter_{step} = 1"}}
        turns.append({"reasoning": f"Step {step}: next I look at module {step % 10}.",
                      "content": "", "tool_calls": [call]})
    turns.append({"content": "All done."})
    return turns


def make_repo(root: Path) -> None:
    (root / "src").mkdir()
    for m in range(10):
        lines = [f"counter_{s} = 0\n" for s in range(STEPS) if s % 10 == m]
        lines += [f"def helper_{m}_{i}(x):\n    return x + {i}\n\n" for i in range(40)]
        (root / "src" / f"mod{m}.py").write_text("".join(lines))


def prefix_share(bodies: list[str]) -> float:
    shared = total = 0
    for before, after in zip(bodies, bodies[1:]):
        n = len(os.path.commonprefix([before, after]))
        shared += n
        total += len(after)
    return shared / total


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, FakeGLM(script()) as fake:
        root = Path(tmp)
        make_repo(root)
        registry = Registry.builtin()
        client = TimedClient(GLMClient(ClientConfig(api_key="bench", base_url=fake.base_url),
                                       known_tools=frozenset(registry.names)))
        runner = ToolRunner(registry, Policy("full-auto"), ToolContext(workspace=root), None)
        prompt = build_system_prompt(root, user_config_dir=root / "no-config", model="glm-4.6", today="2026-01-01")
        agent = Agent(client, runner, system_prompt=prompt, context_window=204_800, cost=lambda u: 0.0)
        tool_seconds = 0.0
        errors = 0

        def handle(event: Event) -> None:
            nonlocal tool_seconds, errors
            if isinstance(event, ToolCallFinished):
                tool_seconds += event.duration
                errors += event.is_error

        start = time.perf_counter()
        drive(agent.run("Walk through the modules."), handle)
        total = time.perf_counter() - start
        # The chat template renders the tools into the system part, before the messages.
        bodies = [json.dumps(r.body.get("tools"), ensure_ascii=False) + json.dumps(r.body["messages"], ensure_ascii=False)
                  for r in fake.requests]

    loop = total - client.seconds - tool_seconds
    print(f"{STEPS} steps in {total:.3f} s: model {client.seconds:.3f} s, tools {tool_seconds:.3f} s, "
          f"loop {loop:.3f} s ({errors} tool errors)")
    print(f"loop time per step: {loop / STEPS * 1000:.2f} ms (target < 10 ms)")
    print(f"prefix share: {prefix_share(bodies) * 100:.1f} % of request characters repeat the previous request "
          "(target > 95 %)")


if __name__ == "__main__":
    main()
