"""Long tasks against the fake server, in one process.

1. One prompt, 60 scripted steps (each reads a 5 KB file) in a 72K-token window: the window
   fills twice during the one request, the run still finishes, and every request the agent
   sends stays under the compaction threshold (80 % of the window), as GLM counts it (the fake
   server counts a token for every 4 bytes of the request body).
2. One step with three `task` calls whose sub-agents each wait 0.6 s on two model replies: the
   step takes the wall time of the slowest sub-agent, not the sum of the three.

Run: python bench/long_tasks.py
Targets: 60 steps done with 2 compactions, largest request < 80 % of the window; three
sub-agents in <= 1.3x the slowest one's time (and well under the sum).
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

from glmcode.agent.drive import drive
from glmcode.agent.loop import Agent
from glmcode.agent.setup import open_workspace
from glmcode.agent.tool_calls import ToolRunner
from glmcode.config.layers import load_settings
from glmcode.events import Compacted, Event, RunFinished, ToolCallFinished
from glmcode.llm.client import GLMClient
from glmcode.llm.types import ClientConfig
from glmcode.permissions.policy import Policy
from glmcode.testing import FakeGLM
from glmcode.tools.base import ToolContext
from glmcode.tools.registry import Registry

STEPS = 60
WINDOW = 72_000
THRESHOLD = 0.8
FILE_BYTES = 5_000
SUMMARY = "## Goal\nRead every module.\n## Decisions\nNone.\n## Files touched\n- src/*\n## Open work\nThe rest."
SUB_DELAY = 0.6


def _is_summary(body: dict[str, Any]) -> bool:
    return "tools" not in body and body["messages"][0]["content"].startswith("You are glmcode's memory")


def long_request() -> None:
    steps: list[int] = []

    def model(body: dict[str, Any]) -> dict[str, Any]:
        if _is_summary(body):
            return {"content": SUMMARY}
        steps.append(1)
        n = len(steps)
        if n > STEPS:
            return {"content": "Read all sixty modules."}
        return {"tool_calls": [{"name": "read_file", "arguments": {"path": f"src/mod{n}.py"}}]}

    with tempfile.TemporaryDirectory() as tmp, FakeGLM([model] * (STEPS * 2)) as fake:
        root = Path(tmp)
        (root / "src").mkdir()
        for n in range(1, STEPS + 1):
            body = "".join(f"def f_{n}_{i}(x):\n    return x * {i}  # module {n}\n\n" for i in range(200))
            (root / "src" / f"mod{n}.py").write_text(body[:FILE_BYTES])
        registry = Registry.builtin()
        client = GLMClient(ClientConfig(api_key="bench", base_url=fake.base_url), known_tools=frozenset(registry.names))
        runner = ToolRunner(registry, Policy("full-auto"), ToolContext(workspace=root), None)
        agent = Agent(client, runner, system_prompt="You are a coding agent.", context_window=WINDOW,
                      cost=lambda u: 0.0, compact_threshold=THRESHOLD, max_output=4000)
        events: list[Event] = []
        start = time.perf_counter()
        drive(agent.run("Read every module in src/ and tell me what they hold."), events.append)
        took = time.perf_counter() - start
        requests = [r.body for r in fake.requests if not _is_summary(r.body)]
        largest = max(len(json.dumps(b, ensure_ascii=False).encode()) // 4 for b in requests)
    finished = events[-1]
    assert isinstance(finished, RunFinished)
    compactions = sum(isinstance(e, Compacted) for e in events)
    summaries = sum(isinstance(e, Compacted) and bool(e.summary) for e in events)
    reads = sum(isinstance(e, ToolCallFinished) for e in events)
    print(f"one request, {reads} steps: {finished.status} ({finished.result!r}) in {took:.2f} s, "
          f"{compactions} compactions (target 2), {summaries} of them summaries")
    print(f"largest request {largest:,} tokens = {largest / WINDOW:.0%} of the {WINDOW:,}-token window "
          f"(target < {THRESHOLD:.0%}); {len(requests)} requests, {len(fake.requests) - len(requests)} summaries")


def parallel_subagents() -> None:
    def model(body: dict[str, Any]) -> dict[str, Any]:
        system = body["messages"][0]["content"]
        tools = [m for m in body["messages"] if m["role"] == "tool"]
        if system.startswith("You are an exploration sub-agent"):
            if not tools:
                return {"tool_calls": [{"name": "glob", "arguments": {"pattern": "*"}}], "first_byte_delay": SUB_DELAY}
            return {"content": f"report on {body['messages'][1]['content']}", "first_byte_delay": SUB_DELAY}
        if not tools:
            return {"tool_calls": [{"name": "task", "id": f"t{n}", "arguments": {"description": f"part {n}", "prompt": f"part {n}"}}
                                   for n in range(3)]}
        return {"content": "three reports read"}

    with tempfile.TemporaryDirectory() as tmp, FakeGLM([model] * 12) as fake:
        root = Path(tmp)
        env = {"ZAI_API_KEY": "bench", "GLMCODE_BASE_URL": fake.base_url, "HOME": str(root / "home"),
               "XDG_CONFIG_HOME": str(root / "home" / ".config"), "XDG_STATE_HOME": str(root / "state")}
        (root / "work").mkdir()
        settings = load_settings(root / "work", env, {"permission_mode": "ask"})
        ws = open_workspace(settings, root / "work", approver=None, env=env, checkpoints=False)
        finished: list[ToolCallFinished] = []
        marks: list[float] = []

        def handle(event: Event) -> None:
            if isinstance(event, ToolCallFinished) and event.name == "task":
                finished.append(event)
                marks.append(time.perf_counter())

        start = time.perf_counter()
        drive(ws.agent.run("look at three parts"), handle)
        ws.session.close()
    step = max(marks) - start
    durations = sorted(e.duration for e in finished)
    print(f"three sub-agents: step {step:.2f} s; each {', '.join(f'{d:.2f}' for d in durations)} s; "
          f"sum {sum(durations):.2f} s")
    print(f"step / slowest {step / durations[-1]:.2f}x (target <= 1.3x), step / sum {step / sum(durations):.2f}x")


if __name__ == "__main__":
    long_request()
    parallel_subagents()
