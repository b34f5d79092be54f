"""Sub-agents as a user meets them: `glmcode exec`, a real process, stream-json, the session file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conftest import run_glmcode
from test_subagents import brief, is_sub, parent_turns, task

KEY = "test-key-9a2c4e6b8d0f1357"


def _model() -> Any:
    parent = parent_turns(task("t1", "alpha"), task("t2", "beta"), task("t3", "gamma"))

    def model(body: dict[str, Any]) -> dict[str, Any]:
        if is_sub(body):
            if not any(m["role"] == "tool" for m in body["messages"]):
                return {"tool_calls": [{"name": "read_file", "arguments": {"path": "notes.txt"}}]}
            return {"content": f"report on {brief(body)}"}
        return parent(body)

    return model


def test_three_task_calls_in_exec_bring_three_reports_into_the_next_request(fake_glm, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("a line only the sub-agents read\n")
    fake = fake_glm([_model()] * 8)
    env = {"ZAI_API_KEY": KEY, "GLMCODE_BASE_URL": fake.base_url}
    proc = run_glmcode(["exec", "look at three things"], tmp_path, env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "reports: report on alpha | report on beta | report on gamma\n"
    assert sum(is_sub(r.body) for r in fake.requests) == 6
    last = fake.requests[-1].body["messages"]
    tools = [m for m in last if m["role"] == "tool"]
    assert [m["content"] for m in tools] == ["report on alpha", "report on beta", "report on gamma"]
    assert "only the sub-agents read" not in json.dumps(last)  # their read results stayed with them
    assert "[explore] -> read_file notes.txt" not in proc.stderr  # only with --verbose
    assert sum("only the sub-agents read" in json.dumps(r.body) for r in fake.requests if is_sub(r.body)) == 3


def test_stream_json_nests_sub_agent_events_under_the_task_call(fake_glm, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("notes\n")
    fake = fake_glm([_model()] * 8)
    env = {"ZAI_API_KEY": KEY, "GLMCODE_BASE_URL": fake.base_url,
           "XDG_STATE_HOME": str(tmp_path / "state")}
    proc = run_glmcode(["exec", "--output-format", "stream-json", "look"], tmp_path, env)
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    nested = [r for r in records if r["type"] == "subagent"]
    assert {r["parent_id"] for r in nested} == {"t1", "t2", "t3"}
    kinds = {r["event"]["type"] for r in nested}
    assert {"tool_call", "tool_result", "usage", "run_finished", "message"} <= kinds
    assert all(r["agent"] == "explore" for r in nested)
    starts = [r for r in records if r["type"] == "tool_call" and r["name"] == "task"]
    assert [r["id"] for r in starts] == ["t1", "t2", "t3"]
    result = records[-1]
    assert result["type"] == "result" and result["status"] == "done"
    sub_tokens = sum(r["event"]["prompt_tokens"] for r in nested if r["event"]["type"] == "usage")
    assert sub_tokens > 0 and result["usage"]["prompt_tokens"] > sub_tokens

    [session] = list((tmp_path / "state").rglob("*.jsonl"))
    lines = [json.loads(line) for line in session.read_text().splitlines()]
    assert sum(1 for r in lines if r["type"] == "subagent") == len(nested)
    # resuming reads the parent's conversation only
    fake2 = fake_glm([{"content": "resumed"}])
    env["GLMCODE_BASE_URL"] = fake2.base_url
    again = run_glmcode(["exec", "--resume", lines[0]["id"], "and now?"], tmp_path, env)
    assert again.returncode == 0, again.stderr
    sent = fake2.requests[0].body["messages"]
    assert not any(is_sub({"messages": [m]}) for m in sent)
    assert [m["role"] for m in sent].count("tool") == 3


def test_verbose_exec_shows_each_sub_agent_call(fake_glm, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("notes\n")
    fake = fake_glm([_model()] * 8)
    proc = run_glmcode(["exec", "--verbose", "look"], tmp_path, {"ZAI_API_KEY": KEY, "GLMCODE_BASE_URL": fake.base_url})
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("[explore] -> read_file notes.txt") == 3
    assert proc.stderr.count("-> task") == 3

