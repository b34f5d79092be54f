"""Compaction within one request: one prompt, many tool calls, a window that fills meanwhile."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conftest import run_glmcode
from test_compaction import SUMMARY, _agent, _collect, _is_summary_request, _look

from glmcode.agent.compaction import is_summary
from glmcode.events import Compacted, Error, Notice

KEY = "test-key-0c4e2a7d9b1f3865"


def test_a_full_window_after_one_read_is_compacted_and_the_run_finishes(fake_glm, tmp_path: Path) -> None:
    """The API counts 185,000 tokens after a single read: that step is summarised, the
    request stays word for word, and the model's answer ends the run."""
    (tmp_path / "a.txt").write_text("the answer is 42\n")

    def model(body: dict[str, Any]) -> dict[str, Any]:
        if _is_summary_request(body):
            assert "the answer is 42" in body["messages"][1]["content"]
            return {"content": SUMMARY + "\na.txt says the answer is 42."}
        return {"content": "a.txt says 42."}

    fake = fake_glm([
        {"tool_calls": [{"name": "read_file", "arguments": {"path": "a.txt"}}],
         "usage": {"prompt_tokens": 185_000, "completion_tokens": 20}},
        model,
        model,
    ])
    proc = run_glmcode(["exec", "--full-auto", "--verbose", "read a.txt"], tmp_path,
                       {"ZAI_API_KEY": KEY, "GLMCODE_BASE_URL": fake.base_url})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "a.txt says 42.\n"
    assert "Could not compact" not in proc.stderr
    assert "Compacted within the request" in proc.stderr
    assert len(fake.requests) == 3 and _is_summary_request(fake.requests[1].body)
    last = fake.requests[-1].body["messages"]
    assert is_summary(last[1]) and "answer is 42" in last[1]["content"]
    assert last[2] == {"role": "user", "content": "read a.txt"}
    assert len(last) == 3  # the read was summarised: nothing but the summary and the request


def test_a_window_filled_three_times_in_one_request(fake_glm, tmp_path: Path) -> None:
    window = 30_000
    steps: list[int] = []

    def model(body: dict[str, Any]) -> dict[str, Any]:
        if _is_summary_request(body):
            return {"content": SUMMARY}
        steps.append(1)
        return {"content": "all read"} if len(steps) > 40 else _look(len(steps))

    fake = fake_glm([model] * 60)
    agent = _agent(fake, tmp_path, window, size=6000)
    events = _collect(agent.run("read every file"))
    assert events[-1].status == "done" and events[-1].result == "all read"
    compactions = [e for e in events if isinstance(e, Compacted)]
    assert len(compactions) >= 3
    requests = [r.body for r in fake.requests if not _is_summary_request(r.body)]
    for body in requests:
        assert len(json.dumps(body["messages"], ensure_ascii=False)) / 3 < window
        assert {"role": "user", "content": "read every file"} in body["messages"]
    # the latest steps come after the request, the summary before it
    after = requests[-1]["messages"]
    assert is_summary(after[1]) and after[2]["content"] == "read every file"
    assert after[3]["role"] == "assistant"


def test_a_request_that_cannot_be_cut_goes_ahead_and_may_fit(fake_glm, tmp_path: Path) -> None:
    fake = fake_glm([{"content": "it fitted"}])
    agent = _agent(fake, tmp_path, 4000)
    events = _collect(agent.run("explain this: " + "w" * 12_000))
    assert events[-1].status == "done" and events[-1].result == "it fitted"
    [notice] = [e for e in events if isinstance(e, Notice) and "Could not compact" in e.message]
    assert "sent as it is" in notice.message
    assert len(fake.requests) == 1


def test_a_real_1261_with_nothing_left_to_cut_ends_the_run_saying_what_to_do(fake_glm, tmp_path: Path) -> None:
    too_long = {"error": {"status": 400, "code": "1261", "message": "Prompt exceeds max length"}}
    fake = fake_glm([too_long])
    agent = _agent(fake, tmp_path, 4000)
    events = _collect(agent.run("explain this: " + "w" * 12_000))
    assert events[-1].status == "error"
    [error] = [e for e in events if isinstance(e, Error)]
    assert error.kind == "context_too_long" and "new session" in error.hint
    assert len(fake.requests) == 1  # no summary request: there was nothing to summarise


def test_long_results_are_cut_before_anything_is_summarised(fake_glm, tmp_path: Path) -> None:
    fake = fake_glm([
        _look(1, usage={"prompt_tokens": 5_000, "completion_tokens": 10}),
        {"content": "done"},
    ])
    agent = _agent(fake, tmp_path, 20_000, size=40_000)
    events = _collect(agent.run("look once"))
    assert events[-1].result == "done"
    assert not any(_is_summary_request(r.body) for r in fake.requests)
    [compacted] = [e for e in events if isinstance(e, Compacted)]
    assert compacted.summary == "" and compacted.after < compacted.before
    tool = fake.requests[-1].body["messages"][-1]
    assert tool["role"] == "tool" and len(tool["content"]) < 10_000


def test_within_a_request_older_steps_long_results_are_cut_before_a_summary(fake_glm, tmp_path: Path) -> None:
    steps: list[int] = []

    def model(body: dict[str, Any]) -> dict[str, Any]:
        assert not _is_summary_request(body), "cutting the long results was enough"
        steps.append(1)
        return {"content": "read them all"} if len(steps) > 6 else _look(len(steps))

    fake = fake_glm([model] * 8)
    agent = _agent(fake, tmp_path, 60_000, size=30_000)
    events = _collect(agent.run("read six big files"))
    assert events[-1].status == "done" and events[-1].result == "read them all"
    compacted = [e for e in events if isinstance(e, Compacted)]
    assert compacted and all(e.summary == "" for e in compacted)
    last = fake.requests[-1].body["messages"]
    results = [m["content"] for m in last if m["role"] == "tool"]
    assert len(results) == 6  # every step is still there, in order
    assert len(results[0]) < 10_000 and "file1:" in results[0]  # the oldest cut, its start kept
    assert len(results[-1]) > 30_000  # the latest whole
    assert any(isinstance(e, Notice) and "keeping their start and end" in e.message for e in events)
