"""The loop guard: a corrective note first, then the run stops."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from glmcode.agent.drive import drive
from glmcode.agent.loop import Agent
from glmcode.agent.loop_guard import LoopGuard
from glmcode.agent.tool_calls import ToolRunner
from glmcode.events import Error, Event, Notice, RunFinished, ToolCall
from glmcode.llm.client import GLMClient
from glmcode.llm.types import ClientConfig
from glmcode.permissions.policy import Policy
from glmcode.tools.base import Param, Tool, ToolContext, ToolResult
from glmcode.tools.registry import Registry


def _agent(fake, tmp_path: Path, ran: list[str]) -> Agent:
    def look(args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        ran.append(args["what"])
        return ToolResult("nothing new")

    registry = Registry([Tool("look", "Look.", (Param("what", "string", "What."),), "read", look)])
    client = GLMClient(ClientConfig(api_key="k", base_url=fake.base_url), sleep=lambda s: None)
    runner = ToolRunner(registry, Policy("full-auto"), ToolContext(workspace=tmp_path), None)
    return Agent(client, runner, system_prompt="You test.", context_window=204_800, cost=lambda u: 0.0)


def _look(n: int, arguments: Any, content: str = "") -> dict[str, Any]:
    return {"content": content, "tool_calls": [{"name": "look", "id": f"c{n}", "arguments": arguments}]}


def test_the_same_call_gets_a_note_on_the_third_time_and_a_stop_on_the_fourth(fake_glm, tmp_path: Path) -> None:
    # The same arguments, written differently each time: the guard compares them as JSON.
    fake = fake_glm([
        _look(1, {"what": "x"}),
        _look(2, '{"what":"x"}'),
        _look(3, '{ "what" : "x" }'),
        _look(4, {"what": "x"}),
    ])
    ran: list[str] = []
    events: list[Event] = []
    drive(_agent(fake, tmp_path, ran).run("find it"), events.append)
    assert ran == ["x", "x", "x"]
    third = fake.requests[3].body["messages"][-1]
    assert third["tool_call_id"] == "c3" and third["content"].startswith("nothing new\n\n[glmcode] This is the third time")
    assert any(isinstance(e, Notice) and "repeating itself" in e.message for e in events)
    [error] = [e for e in events if isinstance(e, Error)]
    assert error.kind == "loop" and "4 times in a row" in error.message
    assert isinstance(events[-1], RunFinished) and events[-1].status == "error"
    assert len(fake.requests) == 4
    tool_msgs = [m for m in events if getattr(m, "type", "") == "message" and m.message["role"] == "tool"]
    assert tool_msgs[-1].message["tool_call_id"] == "c4" and "Not run" in tool_msgs[-1].message["content"]


def test_a_different_call_in_between_resets_the_count(fake_glm, tmp_path: Path) -> None:
    fake = fake_glm([_look(1, {"what": "x"}), _look(2, {"what": "x"}), _look(3, {"what": "y"}),
                     _look(4, {"what": "x"}), _look(5, {"what": "x"}), {"content": "found"}])
    ran: list[str] = []
    events: list[Event] = []
    drive(_agent(fake, tmp_path, ran).run("find it"), events.append)
    assert events[-1].status == "done"
    assert all("[glmcode]" not in m["content"] for m in fake.requests[-1].body["messages"] if m["role"] == "tool")


def test_a_new_prompt_starts_counting_again(fake_glm, tmp_path: Path) -> None:
    fake = fake_glm([_look(1, {"what": "x"}), _look(2, {"what": "x"}), {"content": "a"},
                     _look(3, {"what": "x"}), _look(4, {"what": "x"}), {"content": "b"}])
    agent = _agent(fake, tmp_path, [])
    drive(agent.run("one"), lambda e: None)
    events: list[Event] = []
    drive(agent.run("two"), events.append)
    assert events[-1].status == "done"


def test_repeated_long_text_is_caught_and_short_text_is_not() -> None:
    guard = LoopGuard(limit=3)
    long_text = "I will now look at the configuration file again to find where the value is set. " * 2
    verdicts = [guard.check(long_text, (ToolCall(f"c{n}", "look", f'{{"what": "{n}"}}'),)) for n in range(4)]
    assert [v.note is not None for v in verdicts] == [False, False, True, False]
    assert verdicts[3].stop is not None and "same text 4 times" in verdicts[3].stop
    guard.reset()
    short = [guard.check("Let me check.", (ToolCall(f"c{n}", "look", f'{{"what": "{n}"}}'),)) for n in range(6)]
    assert all(v.note is None and v.stop is None for v in short)
