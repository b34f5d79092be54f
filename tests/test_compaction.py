"""Compaction in the loop: the real client, the fake server, small context windows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from glmcode.agent.compaction import SUMMARY_HEADER, is_summary
from glmcode.agent.drive import drive
from glmcode.agent.loop import Agent
from glmcode.agent.session import SessionWriter
from glmcode.agent.sessions_store import replay
from glmcode.agent.tool_calls import ToolRunner
from glmcode.events import Compacted, Event, Notice, Retrying
from glmcode.llm.client import GLMClient
from glmcode.llm.types import ClientConfig
from glmcode.permissions.policy import Policy
from glmcode.tools.base import Param, Tool, ToolContext, ToolResult
from glmcode.tools.registry import Registry

SUMMARY = "## Goal\nRead files.\n## Decisions\nNone.\n## Files touched\n- a\n## Open work\nNothing."


def _registry(size: int = 200) -> Registry:
    what = (Param("what", "string", "What."),)
    return Registry([Tool("look", "Look.", what, "read", lambda a, c: ToolResult(f"{a['what']}:" + "x" * size))])


def _agent(fake, tmp_path: Path, window: int, *, size: int = 200, sink=None, threshold: float = 0.8) -> Agent:
    client = GLMClient(ClientConfig(api_key="k", base_url=fake.base_url), sleep=lambda s: None)
    runner = ToolRunner(_registry(size), Policy("full-auto"), ToolContext(workspace=tmp_path), None)
    return Agent(client, runner, system_prompt="You test.", context_window=window, cost=lambda u: 0.0,
                 sink=sink, compact_threshold=threshold, max_output=1000)


def _is_summary_request(body: dict[str, Any]) -> bool:
    return "tools" not in body and body["messages"][0]["content"].startswith("You are glmcode's memory")


def _look(n: int, **extra: Any) -> dict[str, Any]:
    return {"tool_calls": [{"name": "look", "id": f"c{n}", "arguments": {"what": f"file{n}"}}], **extra}


def _collect(gen) -> list[Event]:
    events: list[Event] = []
    drive(gen, events.append)
    return events


def test_passing_the_threshold_summarises_older_turns_and_keeps_the_rest(fake_glm, tmp_path: Path) -> None:
    summarised: list[int] = []

    def model(body: dict[str, Any]) -> dict[str, Any]:
        if _is_summary_request(body):
            summarised.append(len(body["messages"]))
            return {"content": SUMMARY}
        n = sum(1 for m in body["messages"] if m["role"] == "tool") + 1
        return {"content": "done"} if summarised and n > 4 else _look(n)

    fake = fake_glm([model] * 40)
    path = tmp_path / "s.jsonl"
    system = "You test. " * 3000  # most of the prompt, as a real one is
    with SessionWriter(path, session_id="s", header={"system_prompt": system}) as w:
        agent = _agent(fake, tmp_path, 30_000, size=2000, sink=w)
        agent.messages[0]["content"] = system
        events = _collect(agent.run("read all the files"))
    assert events[-1].status == "done" and events[-1].result == "done"
    [compacted] = [e for e in events if isinstance(e, Compacted)]
    assert compacted.summary == SUMMARY and compacted.before > compacted.after
    assert any(isinstance(e, Notice) and "replaced by a summary" in e.message for e in events)

    k = next(i for i, r in enumerate(fake.requests) if _is_summary_request(r.body))
    assert 0.8 * 30_000 <= compacted.before < 30_000  # at the threshold, before the window is full
    text = fake.requests[k].body["messages"][1]["content"]
    assert "file1:" in text and "-> look" in text and "read all the files" in text

    before = fake.requests[k - 1].body["messages"]
    after = fake.requests[k + 1].body["messages"]
    assert after[0] == before[0]
    assert is_summary(after[1]) and SUMMARY in after[1]["content"]
    assert after[2] == {"role": "user", "content": "read all the files"}
    # the three latest turns, word for word: two from the last request, and the newest one
    assert len(after) == 3 + 6
    assert after[3:7] == before[-4:]
    assert [m["role"] for m in after[7:]] == ["assistant", "tool"]
    # after compaction the conversation grows by appending again
    assert fake.requests[k + 2].body["messages"][: len(after)] == after
    assert replay(path).messages == agent.messages


def test_context_too_long_compacts_and_retries_once(fake_glm, tmp_path: Path) -> None:
    limit = 5000  # request body bytes the "model" accepts

    def model(body: dict[str, Any]) -> dict[str, Any]:
        if _is_summary_request(body):
            return {"content": SUMMARY}
        if len(json.dumps(body)) > limit:
            return {"error": {"status": 400, "code": "1261", "message": "Prompt exceeds max length"}}
        n = sum(1 for m in body["messages"] if m["role"] == "tool")
        return _look(n + 10) if n < 3 else {"content": "fits now"}

    fake = fake_glm([model] * 40)
    agent = _agent(fake, tmp_path, 200_000, size=900)
    for n in range(4):
        agent.messages += [
            {"role": "user", "content": f"old request {n}"},
            {"role": "assistant", "content": "", "tool_calls": [
                {"id": f"o{n}", "type": "function", "function": {"name": "look", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": f"o{n}", "content": "y" * 900},
            {"role": "assistant", "content": f"answer {n}"},
        ]
    events = _collect(agent.run("now this"))
    assert events[-1].status == "done" and events[-1].result == "fits now"
    assert any(isinstance(e, Compacted) for e in events)
    assert any(isinstance(e, Retrying) and "compacted" in e.reason for e in events)
    refused = [r for r in fake.requests if not _is_summary_request(r.body) and len(json.dumps(r.body)) > limit]
    assert len(refused) == 1  # one refusal, then every request fits


def test_window_exceeded_as_a_finish_reason_also_compacts(fake_glm, tmp_path: Path) -> None:
    fake = fake_glm([
        {"content": "partial", "finish_reason": "model_context_window_exceeded"},
        {"content": SUMMARY},
        {"content": "whole answer"},
    ])
    agent = _agent(fake, tmp_path, 200_000)
    agent.messages += [{"role": "user", "content": "earlier"}, {"role": "assistant", "content": "sure"},
                       {"role": "user", "content": "more"}, {"role": "assistant", "content": "ok"}]
    events = _collect(agent.run("go"))
    assert events[-1].result == "whole answer"
    assert _is_summary_request(fake.requests[1].body)
    assert fake.requests[2].body["messages"][-1] == {"role": "user", "content": "go"}


def test_the_summary_request_fits_even_when_old_results_are_huge(fake_glm, tmp_path: Path) -> None:
    window = 20_000  # tokens; about 60,000 characters
    fake = fake_glm([{"content": SUMMARY}])
    agent = _agent(fake, tmp_path, window)
    for n in range(12):
        agent.messages += [
            {"role": "user", "content": f"request {n}"},
            {"role": "assistant", "content": "", "tool_calls": [
                {"id": f"o{n}", "type": "function", "function": {"name": "look", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": f"o{n}", "content": f"start{n} " + "z" * 50_000 + f" end{n}"},
            {"role": "assistant", "content": f"answer {n}"},
        ]
    events = _collect(agent.compact())
    body = fake.requests[0].body
    assert len(json.dumps(body, ensure_ascii=False)) < window * 3
    sent = body["messages"][1]["content"]
    assert "start0" in sent and "end0" in sent and "characters" in sent  # cut in the middle
    assert any(isinstance(e, Compacted) for e in events)
    from glmcode.agent.compaction import estimate_tokens

    assert estimate_tokens(agent.messages) <= window // 2


def test_one_huge_turn_is_cut_when_there_is_nothing_older(fake_glm, tmp_path: Path) -> None:
    fake = fake_glm([])
    agent = _agent(fake, tmp_path, 20_000)
    agent.messages += [
        {"role": "user", "content": "look at everything"},
        {"role": "assistant", "content": "", "tool_calls": [
            {"id": "o1", "type": "function", "function": {"name": "look", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "o1", "content": "q" * 200_000},
    ]
    events = _collect(agent.compact())
    assert fake.requests == []
    [compacted] = [e for e in events if isinstance(e, Compacted)]
    assert compacted.summary == "" and compacted.after < 10_000
    assert agent.messages[1] == {"role": "user", "content": "look at everything"}
    assert len(agent.messages[3]["content"]) < 10_000


def test_compact_by_hand_with_a_focus(fake_glm, tmp_path: Path) -> None:
    fake = fake_glm([{"content": SUMMARY}])
    agent = _agent(fake, tmp_path, 200_000)
    for n in range(5):
        agent.messages += [{"role": "user", "content": f"q{n}"}, {"role": "assistant", "content": f"a{n}"}]
    _collect(agent.compact("the parser bug"))
    assert "focus on: the parser bug" in fake.requests[0].body["messages"][1]["content"]
    assert agent.messages[1]["content"].startswith(SUMMARY_HEADER)
    assert [m["content"] for m in agent.messages[2:]] == ["q2", "a2", "q3", "a3", "q4", "a4"]
    sent = fake.requests[0].body["messages"][1]["content"]
    assert "q1" in sent and "a1" in sent and "q2" not in sent.split("<latest_request>")[0]


def test_a_failed_summary_request_leaves_the_conversation_and_the_run_goes_on(fake_glm, tmp_path: Path) -> None:
    fake = fake_glm([
        _look(1, usage={"prompt_tokens": 3900, "completion_tokens": 10}),
        {"error": {"status": 400, "code": "1214", "message": "bad"}},
        {"content": "still answered"},
    ])
    agent = _agent(fake, tmp_path, 4000)
    agent.messages += [{"role": "user", "content": "old"}, {"role": "assistant", "content": "reply"}]
    events = _collect(agent.run("go"))
    assert events[-1].result == "still answered"
    assert any(isinstance(e, Notice) and "Could not compact" in e.message for e in events)
    assert not any(isinstance(e, Compacted) for e in events)


def test_text_that_takes_more_tokens_than_estimated_still_fits_after_one_refusal(fake_glm, tmp_path: Path) -> None:
    """Chinese text is about one token a character, three times the estimate for English: the
    refusal teaches the agent that, and the compacted conversation then really fits."""
    window = 150_000  # tokens; the fake counts a token for every 4 bytes, a CJK character is 3
    refused: list[int] = []

    def model(body: dict[str, Any]) -> dict[str, Any]:
        size = len(json.dumps(body, ensure_ascii=False).encode())
        if size // 4 > window:
            refused.append(size)
            return {"error": {"status": 400, "code": "1261", "message": "Prompt exceeds max length"}}
        if sum(1 for m in body["messages"] if m["role"] == "tool") == 0:
            return {"tool_calls": [{"name": "look", "id": f"c{n}", "arguments": {"what": f"文件{n}"}} for n in range(8)]}
        return {"content": "读完了"}

    fake = fake_glm([model] * 6)
    client = GLMClient(ClientConfig(api_key="k", base_url=fake.base_url), sleep=lambda s: None)
    chinese = Registry([Tool("look", "Look.", (Param("what", "string", "What."),), "read",
                             lambda a, c: ToolResult(a["what"] + "：" + "这是一个很长的文件内容。" * 3000))])
    runner = ToolRunner(chinese, Policy("full-auto"), ToolContext(workspace=tmp_path), None)
    agent = Agent(client, runner, system_prompt="You test.", context_window=window, cost=lambda u: 0.0, max_output=1000)
    events = _collect(agent.run("读所有文件"))
    assert events[-1].status == "done" and events[-1].result == "读完了"
    assert len(refused) == 1
    assert agent.chars_per_token < 2
    last = fake.requests[-1].body
    assert len(json.dumps(last, ensure_ascii=False).encode()) // 4 <= window
