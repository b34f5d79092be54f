"""Sub-agents through the real workspace: the `task` tool, the real client, the fake server."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from glmcode.agent.drive import drive
from glmcode.agent.setup import Workspace, open_workspace
from glmcode.agent.tool_calls import ApprovalAnswer, ApprovalRequest
from glmcode.config.layers import load_settings
from glmcode.events import Event, MessageAdded, SubagentEvent, ToolCallFinished, ToolCallStarted, Usage
from tests.sandbox_support import disk_dir, needs_bwrap  # noqa: F401  (disk_dir is a fixture)

KEY = "test-key-5e1b7c2a9d3f4068"
EXPLORER = "You are an exploration sub-agent"


def workspace(fake, cwd: Path, approver=None, **flags: Any) -> Workspace:
    env = {"ZAI_API_KEY": KEY, "GLMCODE_BASE_URL": fake.base_url, "HOME": str(cwd.parent / "home"),
           "XDG_CONFIG_HOME": str(cwd.parent / "home" / ".config"), "XDG_STATE_HOME": str(cwd.parent / "state")}
    settings = load_settings(cwd, env, {"permission_mode": flags.pop("mode", "ask"), **flags})
    return open_workspace(settings, cwd, approver=approver, env=env, checkpoints=False)


def collect(ws: Workspace, prompt: str, stop: Any = None) -> list[Event]:
    events: list[Event] = []

    def handle(event: Event) -> None:
        events.append(event)
        if stop is not None and stop(event):
            raise KeyboardInterrupt

    drive(ws.agent.run(prompt), handle)
    return events


def is_sub(body: dict[str, Any]) -> bool:
    return body["messages"][0]["content"].startswith(("You are an exploration sub-agent", "You are a sub-agent"))


def brief(body: dict[str, Any]) -> str:
    return body["messages"][1]["content"]


def task(call_id: str, prompt: str, agent: str | None = None) -> dict[str, Any]:
    args = {"description": f"look into {prompt}", "prompt": prompt}
    if agent:
        args["agent"] = agent
    return {"name": "task", "id": call_id, "arguments": args}


def parent_turns(*calls: dict[str, Any]) -> Any:
    """The parent calls `calls` at once, then answers with what the reports said."""

    def parent(body: dict[str, Any]) -> dict[str, Any]:
        if not any(m["role"] == "tool" for m in body["messages"]):
            return {"tool_calls": list(calls)}
        return {"content": "reports: " + " | ".join(m["content"] for m in body["messages"] if m["role"] == "tool")}

    return parent


def test_three_tasks_in_one_step_run_side_by_side_with_their_own_contexts(fake_glm, tmp_path: Path) -> None:
    for name in "abc":
        (tmp_path / f"{name}.txt").write_text(f"secret contents of {name}\n")
    (tmp_path / "AGENTS.md").write_text("Run the tests with make check.\n")
    barrier = threading.Barrier(3, timeout=10)  # passes only when all three ask at once
    parent = parent_turns(task("t1", "a"), task("t2", "b"), task("t3", "c"))

    def model(body: dict[str, Any]) -> dict[str, Any]:
        if not is_sub(body):
            return parent(body)
        name = brief(body)
        tool = [m for m in body["messages"] if m["role"] == "tool"]
        if not tool:
            barrier.wait()
            return {"tool_calls": [{"name": "read_file", "arguments": {"path": f"{name}.txt"}}],
                    "usage": {"prompt_tokens": 1000, "completion_tokens": 10}}
        assert f"secret contents of {name}" in tool[0]["content"]
        return {"content": f"{name}.txt holds a secret", "usage": {"prompt_tokens": 1200, "completion_tokens": 8}}

    fake = fake_glm([model] * 8)
    ws = workspace(fake, tmp_path)
    events = collect(ws, "look at a, b and c")
    assert events[-1].status == "done"
    assert events[-1].result == "reports: a.txt holds a secret | b.txt holds a secret | c.txt holds a secret"

    subs = [r.body for r in fake.requests if is_sub(r.body)]
    assert len(subs) == 6
    for body in subs:  # a fresh context: its own system prompt and the brief, nothing of the parent's
        system = body["messages"][0]["content"]
        assert system.startswith(EXPLORER) and "Run the tests with make check." in system  # the memory files
        assert "You are glmcode, a coding agent" not in system and str(tmp_path) in system  # the environment
        assert "look at a, b and c" not in str(body["messages"])
        assert [t["function"]["name"] for t in body["tools"]] == ["read_file", "grep", "glob", "web_search"]  # the read tools
    last = fake.requests[-1].body
    assert not is_sub(last)
    assert "secret contents" not in str(last["messages"])  # the parent carries only the reports
    assert [m["tool_call_id"] for m in last["messages"] if m["role"] == "tool"] == ["t1", "t2", "t3"]

    nested = [e for e in events if isinstance(e, SubagentEvent)]
    assert {e.parent_id for e in nested} == {"t1", "t2", "t3"} and {e.agent for e in nested} == {"explore"}
    assert any(isinstance(e.event, ToolCallStarted) and e.event.name == "read_file" for e in nested)
    finished = {e.id: e for e in events if isinstance(e, ToolCallFinished)}
    assert finished["t1"].data["tool_calls"] == 1 and finished["t1"].data["turns"] == 2
    # the sub-agents' tokens are counted with the parent's
    nested_in = sum(e.event.prompt_tokens for e in nested if isinstance(e.event, Usage))
    assert nested_in == 3 * 2200
    assert events[-1].usage.prompt_tokens >= nested_in
    assert ws.agent.usage.prompt_tokens == events[-1].usage.prompt_tokens
    # the parent's conversation never holds a sub-agent's messages
    assert all("secret contents" not in str(m) for m in ws.agent.messages)
    assert not any(isinstance(e, MessageAdded) and "secret contents" in str(e.message) for e in events)


def test_a_failing_sub_agent_becomes_an_error_result_and_the_parent_goes_on(fake_glm, tmp_path: Path) -> None:
    parent = parent_turns(task("t1", "x"))

    def model(body: dict[str, Any]) -> dict[str, Any]:
        if is_sub(body):
            return {"error": {"status": 400, "code": "1214", "message": "bad request from the sub-agent"}}
        return parent(body)

    fake = fake_glm([model] * 3)
    events = collect(workspace(fake, tmp_path), "go")
    assert events[-1].status == "done"
    [result] = [e for e in events if isinstance(e, ToolCallFinished)]
    assert result.is_error and "explore sub-agent failed" in result.output
    assert "Error: the explore sub-agent failed" in events[-1].result


def test_a_sub_agent_stops_at_its_turn_limit_and_says_so(fake_glm, tmp_path: Path) -> None:
    parent = parent_turns(task("t1", "x"))
    rounds: list[int] = []

    def model(body: dict[str, Any]) -> dict[str, Any]:
        if is_sub(body):
            rounds.append(1)
            return {"content": f"still looking ({len(rounds)})",
                    "tool_calls": [{"name": "glob", "arguments": {"pattern": f"*{len(rounds)}"}}]}
        return parent(body)

    fake = fake_glm([model] * 6)
    events = collect(workspace(fake, tmp_path, subagent_max_turns=2), "go")
    assert events[-1].status == "done" and len(rounds) == 2
    [result] = [e for e in events if isinstance(e, ToolCallFinished)]
    assert not result.is_error
    assert result.output.startswith("still looking (2)") and "limit of 2 model requests" in result.output


def test_ctrl_c_during_a_sub_agent_interrupts_it_and_the_parent(fake_glm, tmp_path: Path) -> None:
    def model(body: dict[str, Any]) -> dict[str, Any]:
        if is_sub(body):
            n = len(body["messages"])
            return {"tool_calls": [{"name": "glob", "arguments": {"pattern": f"*{n}"}}]}
        return {"tool_calls": [task("t1", "x")]}

    fake = fake_glm([model] * 40)
    ws = workspace(fake, tmp_path)
    events = collect(ws, "go", stop=lambda e: isinstance(e, SubagentEvent) and isinstance(e.event, ToolCallFinished))
    assert events[-1].status == "interrupted"
    assert ws.agent.messages[-1]["role"] == "tool" and "interrupted" in ws.agent.messages[-1]["content"]
    for thread in threading.enumerate():
        if thread.name.startswith("glmcode-task"):
            thread.join(timeout=10)
            assert not thread.is_alive()
    served = len(fake.requests)
    assert served < 10  # the sub-agent stopped at once, not at its turn limit


def test_a_sub_agents_approvals_reach_the_parents_approver(fake_glm, tmp_path: Path) -> None:
    asked: list[ApprovalRequest] = []
    threads: list[str] = []

    def approver(request: ApprovalRequest) -> ApprovalAnswer:
        asked.append(request)
        threads.append(threading.current_thread().name)
        return ApprovalAnswer("no", "not now")

    parent = parent_turns(task("t1", "write", agent="general"))

    def model(body: dict[str, Any]) -> dict[str, Any]:
        if is_sub(body):
            if not any(m["role"] == "tool" for m in body["messages"]):
                return {"tool_calls": [{"name": "write_file", "arguments": {"path": "new.txt", "content": "hi\n"}}]}
            return {"content": "the user declined: " + body["messages"][-1]["content"]}
        return parent(body)

    fake = fake_glm([model] * 4)
    events = collect(workspace(fake, tmp_path, approver=approver), "go")
    assert events[-1].status == "done"
    [request] = asked
    assert request.tool == "write_file" and "general sub-agent" in request.reason
    assert threads == [threading.main_thread().name]  # asked on the thread that drives the parent
    assert not (tmp_path / "new.txt").exists()
    assert "declined" in events[-1].result and "not now" in events[-1].result


def test_max_subagents_bounds_how_many_run_at_once(fake_glm, tmp_path: Path) -> None:
    lock = threading.Lock()
    running: set[str] = set()
    most: list[int] = []
    pair = threading.Barrier(2, timeout=10)  # the first two run together
    parent = parent_turns(task("t1", "one"), task("t2", "two"), task("t3", "three"))

    def model(body: dict[str, Any]) -> dict[str, Any]:
        if not is_sub(body):
            return parent(body)
        name = brief(body)
        if not any(m["role"] == "tool" for m in body["messages"]):
            with lock:
                running.add(name)
                most.append(len(running))
            if name != "three":
                pair.wait()
            return {"tool_calls": [{"name": "glob", "arguments": {"pattern": "*"}}]}
        with lock:
            running.discard(name)
        return {"content": f"done {name}"}

    fake = fake_glm([model] * 8)
    events = collect(workspace(fake, tmp_path, max_subagents=2), "three things")
    assert events[-1].result == "reports: done one | done two | done three"
    assert max(most) == 2


def test_sub_agents_follow_the_model_the_session_switched_to(fake_glm, tmp_path: Path) -> None:
    from dataclasses import replace

    from glmcode.llm.client import GLMClient

    parent = parent_turns(task("t1", "x"))
    fake = fake_glm([lambda b: {"content": "ok"} if is_sub(b) else parent(b)] * 3)
    ws = workspace(fake, tmp_path)
    old = ws.agent.client
    ws.agent.client = GLMClient(replace(old.config, model="glm-4.5-air"))  # as /model does
    old.close()
    events = collect(ws, "go")
    assert events[-1].result == "reports: ok"
    assert [r.body["model"] for r in fake.requests] == ["glm-4.5-air"] * 3


@needs_bwrap
def test_a_sub_agents_commands_run_in_the_parents_sandbox(fake_glm, tmp_path: Path, disk_dir: Path) -> None:
    # auto-edit runs sandboxed commands unasked: a sub-agent's must be sandboxed as well.
    cwd = tmp_path / "ws"
    cwd.mkdir()
    agents = tmp_path / "home" / ".config" / "glmcode" / "agents"
    agents.mkdir(parents=True)
    (agents / "runner.md").write_text("---\ndescription: Runs commands.\ntools: run_shell\n---\nRun what you are told.\n")
    outside = disk_dir / "escaped.txt"

    def model(body: dict[str, Any]) -> dict[str, Any]:
        if not body["messages"][0]["content"].startswith("Run what you are told"):
            return parent_turns(task("t1", "write a file", agent="runner"))(body)
        if not any(m["role"] == "tool" for m in body["messages"]):
            return {"tool_calls": [{"name": "run_shell", "arguments": {"command": f"echo x > {outside}; echo x > inside.txt"}}]}
        return {"content": "tool said: " + body["messages"][-1]["content"]}

    fake = fake_glm([model] * 4)
    events = collect(workspace(fake, cwd, mode="auto-edit"), "go")
    assert not outside.exists()
    assert (cwd / "inside.txt").read_text() == "x\n"
    report = next(e for e in events if isinstance(e, ToolCallFinished) and e.name == "task")
    assert "Read-only file system" in report.output
