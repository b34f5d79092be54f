"""The agent loop in-process: the real client against the fake server, small test tools."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from glmcode.agent.drive import drive
from glmcode.agent.loop import Agent
from glmcode.agent.tool_calls import ApprovalAnswer, ApprovalRequest, ToolRunner
from glmcode.events import (
    ApprovalNeeded,
    Event,
    MessageAdded,
    Notice,
    Retrying,
    RunFinished,
    TextDelta,
    ToolCallFinished,
    ToolCallStarted,
)
from glmcode.llm.client import GLMClient
from glmcode.llm.types import ClientConfig
from glmcode.permissions.policy import Policy
from glmcode.tools.base import Param, Tool, ToolContext, ToolResult
from glmcode.tools.registry import Registry


def _make_tools(log: list[str], barrier: threading.Barrier | None = None) -> Registry:
    def look(args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        if barrier is not None:
            barrier.wait(timeout=5)  # only passes if both reads run at once
        log.append(f"look {args['what']}")
        return ToolResult(f"saw {args['what']}")

    def change(args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        log.append(f"change {args['what']}")
        return ToolResult(f"changed {args['what']}", diff=f"-old\n+{args['what']}\n")

    def boom(args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        raise RuntimeError("tool bug")

    what = (Param("what", "string", "What."),)
    return Registry([
        Tool("look", "Look at something.", what, "read", look),
        Tool("change", "Change something.", what, "edit", change, preview=lambda a, c: f"+{a['what']}"),
        Tool("boom", "Always fails.", (), "read", boom),
    ])


def _agent(fake, registry: Registry, tmp_path: Path, mode: str = "full-auto", approver=None,
           max_turns: int | None = None) -> Agent:
    client = GLMClient(ClientConfig(api_key="k", base_url=fake.base_url), sleep=lambda s: None)
    runner = ToolRunner(registry, Policy(mode), ToolContext(workspace=tmp_path), approver)
    return Agent(client, runner, system_prompt="You test.", context_window=204_800,
                 cost=lambda u: 0.0, max_turns=max_turns)


def _collect(agent: Agent, prompt: str) -> list[Event]:
    events: list[Event] = []
    drive(agent.run(prompt), events.append)
    return events


def _call(name: str, call_id: str, **args: Any) -> dict[str, Any]:
    return {"name": name, "id": call_id, "arguments": args}


def test_read_calls_run_in_parallel_and_results_keep_call_order(fake_glm, tmp_path: Path) -> None:
    log: list[str] = []
    fake = fake_glm([
        {"tool_calls": [_call("look", "c1", what="a"), _call("look", "c2", what="b"), _call("change", "c3", what="c")]},
        {"content": "done"},
    ])
    events = _collect(_agent(fake, _make_tools(log, threading.Barrier(2)), tmp_path), "go")
    assert events[-1] == RunFinished("done", "done", 2, events[-1].usage, 0.0)
    tool_msgs = [m for m in fake.requests[1].body["messages"] if m["role"] == "tool"]
    assert [(m["tool_call_id"], m["content"]) for m in tool_msgs] == [
        ("c1", "saw a"), ("c2", "saw b"), ("c3", "changed c")]
    finished = [e for e in events if isinstance(e, ToolCallFinished)]
    assert [e.id for e in finished] == ["c1", "c2", "c3"]
    assert log[-1] == "change c"


def test_bad_calls_become_error_results_and_the_loop_goes_on(fake_glm, tmp_path: Path) -> None:
    fake = fake_glm([
        {"tool_calls": [
            {"name": "nope", "id": "c1", "arguments": {}},
            {"name": "look", "id": "c2", "arguments": "{\"what\": "},
            {"name": "look", "id": "c3", "arguments": "{\"what\": \"a\"}{\"what\": \"b\"}"},
            {"name": "look", "id": "c4", "arguments": {"what": 3}},
            {"name": "look", "id": "c5", "arguments": {"what": "x", "extra": 1}},
            {"name": "boom", "id": "c6", "arguments": {}},
        ]},
        {"content": "recovered"},
    ])
    events = _collect(_agent(fake, _make_tools([]), tmp_path), "go")
    assert isinstance(events[-1], RunFinished) and events[-1].status == "done"
    results = {m["tool_call_id"]: m["content"] for m in fake.requests[1].body["messages"] if m["role"] == "tool"}
    assert "no tool named 'nope'" in results["c1"] and "look" in results["c1"]
    assert "not valid JSON" in results["c2"]
    assert "more than one JSON value" in results["c3"]
    assert "'what' must be string" in results["c4"]
    assert "unknown argument(s) extra" in results["c5"]
    assert "tool bug" in results["c6"]
    assert all(text.startswith("Error") for text in results.values())


def test_repeated_call_ids_are_made_distinct(fake_glm, tmp_path: Path) -> None:
    fake = fake_glm([
        {"tool_calls": [_call("look", "same", what="a"), _call("look", "same", what="b")]},
        {"content": "ok"},
    ])
    _collect(_agent(fake, _make_tools([]), tmp_path), "go")
    msgs = fake.requests[1].body["messages"]
    ids = [c["id"] for c in msgs[-3]["tool_calls"]]
    assert len(set(ids)) == 2
    assert [m["tool_call_id"] for m in msgs[-2:]] == ids


def test_approval_yes_no_and_always(fake_glm, tmp_path: Path) -> None:
    log: list[str] = []
    answers = iter([ApprovalAnswer("yes"), ApprovalAnswer("no", "not that one"), ApprovalAnswer("always")])
    asked: list[ApprovalRequest] = []

    def approver(req: ApprovalRequest) -> ApprovalAnswer:
        asked.append(req)
        return next(answers)

    fake = fake_glm([
        {"tool_calls": [_call("change", "c1", what="one")]},
        {"tool_calls": [_call("change", "c2", what="two")]},
        {"tool_calls": [_call("change", "c3", what="three")]},
        {"tool_calls": [_call("change", "c4", what="four")]},
        {"content": "ok"},
    ])
    events = _collect(_agent(fake, _make_tools(log), tmp_path, mode="ask", approver=approver), "go")
    assert log == ["change one", "change three", "change four"]
    assert len(asked) == 3 and asked[0].preview == "+one"
    assert sum(isinstance(e, ApprovalNeeded) for e in events) == 3
    refused = fake.requests[2].body["messages"][-1]["content"]
    assert "declined" in refused and "not that one" in refused


def test_without_an_approver_ask_becomes_a_refusal_with_a_notice(fake_glm, tmp_path: Path) -> None:
    log: list[str] = []
    fake = fake_glm([{"tool_calls": [_call("change", "c1", what="x")]}, {"content": "ok"}])
    events = _collect(_agent(fake, _make_tools(log), tmp_path, mode="ask"), "go")
    assert log == []
    assert any(isinstance(e, Notice) for e in events)
    assert "Not run" in fake.requests[1].body["messages"][-1]["content"]


def test_max_turns_stops_the_run(fake_glm, tmp_path: Path) -> None:
    fake = fake_glm([{"tool_calls": [_call("look", f"c{i}", what="x")]} for i in range(5)])
    events = _collect(_agent(fake, _make_tools([]), tmp_path, max_turns=2), "go")
    assert events[-1].status == "max_turns" and events[-1].turns == 2
    assert len(fake.requests) == 2


def test_a_stop_asked_for_mid_turn_runs_the_calls_then_ends_without_a_request(fake_glm, tmp_path: Path) -> None:
    fake = fake_glm([{"tool_calls": [_call("look", f"c{i}", what="x")]} for i in range(3)] + [{"content": "ok"}])
    log: list[str] = []
    agent = _agent(fake, _make_tools(log), tmp_path)
    seen: list[Event] = []

    def handle(event: Event) -> None:
        seen.append(event)
        if isinstance(event, ToolCallStarted) and event.id == "c0":
            agent.stop_after_turn()

    drive(agent.run("go"), handle)
    assert log == ["look x"] and len(fake.requests) == 1
    assert agent.messages[-1]["role"] == "tool"
    assert seen[-1].status == "max_turns" and seen[-1].turns == 1
    events = _collect(agent, "again")
    assert events[-1].status == "done" and events[-1].result == "ok"
    assert len(fake.requests) == 4, "the next run is not stopped"


def test_interrupt_while_rendering_keeps_the_partial_answer(fake_glm, tmp_path: Path) -> None:
    fake = fake_glm([{"content": "one two three four five six"}, {"content": "next"}])
    agent = _agent(fake, _make_tools([]), tmp_path)
    seen: list[Event] = []

    def handle(event: Event) -> None:
        seen.append(event)
        if isinstance(event, TextDelta) and sum(isinstance(e, TextDelta) for e in seen) == 3:
            raise KeyboardInterrupt

    drive(agent.run("talk"), handle)
    assert seen[-1].status == "interrupted"
    assert agent.messages[-1] == {"role": "assistant", "content": "one two three"}
    _collect(agent, "again")
    assert fake.requests[1].body["messages"][2] == {"role": "assistant", "content": "one two three"}
    assert fake.requests[1].body["messages"][3] == {"role": "user", "content": "again"}


def test_interrupt_during_tools_answers_every_call(fake_glm, tmp_path: Path) -> None:
    fake = fake_glm([{"tool_calls": [_call("look", "c1", what="a"), _call("change", "c2", what="b")]}])
    agent = _agent(fake, _make_tools([]), tmp_path)

    def handle(event: Event) -> None:
        if isinstance(event, ToolCallStarted) and event.id == "c2":
            raise KeyboardInterrupt

    drive(agent.run("go"), handle)
    tool_msgs = [m for m in agent.messages if m["role"] == "tool"]
    assert [m["tool_call_id"] for m in tool_msgs] == ["c1", "c2"]
    assert "interrupted" in tool_msgs[1]["content"]


def test_a_retried_stream_is_announced_and_the_reply_is_whole(fake_glm, tmp_path: Path) -> None:
    fake = fake_glm([{"content": "alpha beta gamma delta", "cut_after": 2}, {"content": "alpha beta gamma delta"}])
    events = _collect(_agent(fake, _make_tools([]), tmp_path), "go")
    assert any(isinstance(e, Retrying) for e in events)
    assert events[-1].result == "alpha beta gamma delta"


def test_an_unrecoverable_error_ends_the_run_with_an_error(fake_glm, tmp_path: Path) -> None:
    fake = fake_glm([{"error": {"status": 400, "code": "1214", "message": "messages invalid"}}])
    events = _collect(_agent(fake, _make_tools([]), tmp_path), "go")
    assert events[-2].type == "error" and events[-1].status == "error"


def test_every_request_extends_the_previous_one(fake_glm, tmp_path: Path) -> None:
    fake = fake_glm([{"reasoning": f"step {i}", "tool_calls": [_call("look", f"c{i}", what=str(i))]} for i in range(6)]
                    + [{"content": "end"}])
    agent = _agent(fake, _make_tools([]), tmp_path)
    _collect(agent, "go")
    _collect(agent, "and again")
    bodies = [r.body for r in fake.requests[:-1]]
    for before, after in zip(bodies, bodies[1:]):
        assert after["messages"][: len(before["messages"])] == before["messages"]
        assert json.dumps(after["tools"]) == json.dumps(before["tools"])
        assert after["messages"][0] == before["messages"][0]


def test_messages_added_rebuild_the_conversation(fake_glm, tmp_path: Path) -> None:
    fake = fake_glm([{"tool_calls": [_call("look", "c1", what="a")]}, {"content": "done"}])
    agent = _agent(fake, _make_tools([]), tmp_path)
    events = _collect(agent, "go")
    rebuilt = [agent.messages[0]] + [e.message for e in events if isinstance(e, MessageAdded)]
    assert rebuilt == agent.messages


@pytest.mark.parametrize("mode,expected", [("read-only", []), ("auto-edit", ["change x"])])
def test_modes_decide_edits(fake_glm, tmp_path: Path, mode: str, expected: list[str]) -> None:
    log: list[str] = []
    fake = fake_glm([{"tool_calls": [_call("change", "c1", what="x")]}, {"content": "ok"}])
    _collect(_agent(fake, _make_tools(log), tmp_path, mode=mode), "go")
    assert log == expected
