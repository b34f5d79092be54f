"""The session file: what is written, what is kept secret, and what is read back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from glmcode.agent.drive import drive
from glmcode.agent.loop import Agent
from glmcode.agent.session import SessionWriter
from glmcode.agent.sessions_store import (
    INTERRUPTED_RESULT,
    SessionNotFound,
    find_session,
    format_sessions,
    list_sessions,
    replay,
)
from glmcode.agent.tool_calls import ToolRunner
from glmcode.events import (
    Event,
    MessageAdded,
    ReasoningDelta,
    Retrying,
    SessionStarted,
    TextDelta,
    ToolCallStarted,
    TurnStarted,
    Usage,
)
from glmcode.llm.client import GLMClient
from glmcode.llm.types import ClientConfig
from glmcode.permissions.policy import Policy
from glmcode.tools.base import Param, Tool, ToolContext, ToolResult
from glmcode.tools.registry import Registry

KEY = "0123456789abcdef0123456789abcdef.QwErTyUiOpAsDfGh"


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _registry() -> Registry:
    what = (Param("what", "string", "What."),)
    return Registry([Tool("look", "Look.", what, "read", lambda a, c: ToolResult(f"saw {a['what']}"))])


def _agent(fake, tmp_path: Path, sink: SessionWriter, messages: list[dict[str, Any]] | None = None) -> Agent:
    client = GLMClient(ClientConfig(api_key="k", base_url=fake.base_url), sleep=lambda s: None)
    runner = ToolRunner(_registry(), Policy("full-auto"), ToolContext(workspace=tmp_path), None)
    return Agent(client, runner, system_prompt="You test.", context_window=204_800, cost=lambda u: 0.001,
                 sink=sink, messages=messages)


def _writer(path: Path, session_id: str = "s1") -> SessionWriter:
    return SessionWriter(path, session_id=session_id, header={"system_prompt": "You test.", "created": 1.0},
                         redact=(KEY,))


def test_header_then_events_with_deltas_joined(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    with _writer(path) as w:
        w.write(SessionStarted("s1", "glm-4.6", "/w", "ask"))
        w.write(TurnStarted(1))
        for piece in ("Let ", "me ", "think."):
            w.write(ReasoningDelta(piece))
        for piece in ("Hello", " there"):
            w.write(TextDelta(piece))
        w.write(MessageAdded({"role": "assistant", "content": "Hello there"}))
        assert _lines(path)[-1]["type"] == "message"  # on disk before the next request
    records = _lines(path)
    assert path.stat().st_mode & 0o777 == 0o600  # it holds code and command output: the user's alone
    assert records[0] == {"type": "session", "version": 1, "id": "s1", "system_prompt": "You test.", "created": 1.0}
    assert [r["type"] for r in records[1:]] == ["session_started", "turn_started", "reasoning", "text", "message"]
    assert records[3]["text"] == "Let me think." and records[4]["text"] == "Hello there"


@pytest.mark.parametrize("secret", [
    KEY,
    "QwErTyUiOpAsDfGh",
    "sk-proj-4fG7hJ9kL2mN5pQ8rS1tU3vW",
    "AKIAIOSFODNN7EXAMPLE",
    "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
    "xoxb-2637418234-8263542187-aBcDeFgHiJkL",
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA1b2c3d4\nq8r9s0t1u2v3==\n-----END RSA PRIVATE KEY-----",
])
def test_secrets_never_reach_the_file(tmp_path: Path, secret: str) -> None:
    path = tmp_path / "s.jsonl"
    with _writer(path) as w:
        w.write(MessageAdded({"role": "tool", "tool_call_id": "c", "content": f"found: {secret} (in .env)"}))
        half = len(secret) // 2
        w.write(TextDelta(f"the key is {secret[:half]}"))
        w.write(TextDelta(f"{secret[half:]} ok"))
        w.write(Usage(1, 1, 0, 0.0, 10))
    text = path.read_text(encoding="utf-8")
    assert secret not in text and json.dumps(secret)[1:-1] not in text
    assert text.count("[redacted]") >= 2
    assert "(in .env)" in text and " ok" in text


def test_named_values_and_bearer_tokens_are_redacted_but_code_is_not(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    shown = (
        'api_key = "a8f3k2m9x7q1w5e4r6t0"\nAuthorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc123\n'
        "max_tokens=32768\ntoken = self._tokenizer.encode(text)\npassword: str = field(default=None)\n"
    )
    with _writer(path) as w:
        w.write(MessageAdded({"role": "tool", "tool_call_id": "c", "content": shown}))
    content = _lines(path)[1]["message"]["content"]
    assert "a8f3k2m9x7q1w5e4r6t0" not in content and "eyJhbGciOiJIUzI1NiJ9" not in content
    assert 'api_key = "[redacted]"' in content and "Bearer [redacted]" in content
    assert "max_tokens=32768" in content and "self._tokenizer.encode(text)" in content
    assert "field(default=None)" in content


def test_appending_after_a_cut_line_drops_the_fragment(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    with _writer(path) as w:
        w.write(MessageAdded({"role": "user", "content": "hi"}))
    with open(path, "a", encoding="utf-8") as f:
        f.write('{"type": "message", "message": {"role": "assis')  # the process died here
    with _writer(path) as w:
        w.write(MessageAdded({"role": "user", "content": "again"}))
    state = replay(path)
    assert [m.get("content") for m in state.messages[1:]] == ["hi", "again"]
    assert state.skipped_lines == 0 and _lines_ok(path) == 3
    assert not any("cut off" in note for note in state.interrupted)
    assert len(path.read_text(encoding="utf-8").splitlines()) == 3


def test_a_cut_last_line_is_read_around(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    with _writer(path) as w:
        w.write(MessageAdded({"role": "user", "content": "hi"}))
    with open(path, "a", encoding="utf-8") as f:
        f.write('{"type": "mess')
    state = replay(path)
    assert state.messages[1:] == [{"role": "user", "content": "hi"}] and state.skipped_lines == 0
    assert "the last line of the session file was cut off" in state.interrupted[0]


def _lines_ok(path: Path) -> int:
    ok = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            json.loads(line)
            ok += 1
        except ValueError:
            pass
    return ok


def test_replay_rebuilds_the_conversation_and_the_totals(fake_glm, tmp_path: Path) -> None:
    fake = fake_glm([
        {"tool_calls": [{"name": "look", "id": "c1", "arguments": {"what": "a"}}],
         "usage": {"prompt_tokens": 100, "completion_tokens": 10}},
        {"content": "done", "usage": {"prompt_tokens": 130, "completion_tokens": 5}},
        {"content": "second", "usage": {"prompt_tokens": 150, "completion_tokens": 5}},
    ])
    path = tmp_path / "s.jsonl"
    with _writer(path) as w:
        agent = _agent(fake, tmp_path, w)
        drive(agent.run("go"), lambda e: None)
        drive(agent.run("more"), lambda e: None)
    state = replay(path)
    assert state.messages == agent.messages
    assert state.interrupted == [] and state.repairs == []
    assert state.turns == 3
    assert state.usage.prompt_tokens == 380 and state.cost_usd == pytest.approx(0.003)


def test_a_session_killed_between_a_call_and_its_result_is_repaired(fake_glm, tmp_path: Path) -> None:
    fake = fake_glm([
        {"tool_calls": [{"name": "look", "id": "c1", "arguments": {"what": "a"}},
                        {"name": "look", "id": "c2", "arguments": {"what": "b"}}]},
        {"content": "after resuming"},
    ])
    path = tmp_path / "s.jsonl"
    w = _writer(path)
    agent = _agent(fake, tmp_path, w)
    events: list[Event] = []
    for event in agent.run("go"):
        events.append(event)
        if isinstance(event, ToolCallStarted):
            break  # like kill -9: nothing after this reaches the file
    w._file.flush()
    state = replay(path)
    assert state.messages[2]["tool_calls"][1]["id"] == "c2"
    assert state.repairs == [
        {"role": "tool", "tool_call_id": "c1", "content": INTERRUPTED_RESULT},
        {"role": "tool", "tool_call_id": "c2", "content": INTERRUPTED_RESULT},
    ]
    assert "2 tool calls never finished (look, look)" in state.interrupted[0]

    with _writer(path) as again:
        for message in state.repairs:
            again.write(MessageAdded(message))
        resumed = _agent(fake, tmp_path, again, messages=state.messages)
        drive(resumed.run("go on"), lambda e: None)
    sent = fake.requests[-1].body["messages"]
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "tool", "tool", "user"]
    assert replay(path).messages == resumed.messages


def test_a_reply_cut_mid_stream_is_noted(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    with _writer(path) as w:
        w.write(MessageAdded({"role": "user", "content": "hi"}))
        w.write(TurnStarted(1))
        w.write(TextDelta("Half an ans"))
        w.write(Retrying("cut", 0.1, 2, 6))  # the buffered delta reaches the file with the next event
    state = replay(path)
    assert state.messages[-1] == {"role": "user", "content": "hi"}
    assert state.interrupted == ["the model's reply was cut off after 11 characters and is not in the conversation"]


def _session(folder: Path, session_id: str, prompt: str | None, mtime: float) -> Path:
    import os

    path = folder / f"{session_id}.jsonl"
    with SessionWriter(path, session_id=session_id, header={"created": mtime, "model": "glm-4.6"}) as w:
        if prompt is not None:
            w.write(MessageAdded({"role": "user", "content": prompt}))
            w.write(TurnStarted(1))
            w.write(Usage(10, 2, 0, 0.25, 100))
            w.write(MessageAdded({"role": "user", "content": "second prompt"}))
    os.utime(path, (mtime, mtime))
    return path


def test_listing_and_finding_sessions(tmp_path: Path) -> None:
    _session(tmp_path, "20250101-100000-aaaaaa", "first\n  fix the   tests", 1000.0)
    _session(tmp_path, "20250102-100000-bbbbbb", "add a flag", 3000.0)
    _session(tmp_path, "20250103-100000-cccccc", None, 5000.0)  # opened and left: not listed
    (tmp_path / "notes.txt").write_text("not a session")
    sessions = list_sessions(tmp_path)
    assert [s.id for s in sessions] == ["20250102-100000-bbbbbb", "20250101-100000-aaaaaa"]
    assert sessions[1].first_prompt == "first" and sessions[0].turns == 1 and sessions[0].cost_usd == 0.25
    assert find_session(sessions, "1").id == "20250102-100000-bbbbbb"
    assert find_session(sessions, "2").id == "20250101-100000-aaaaaa"
    assert find_session(sessions, "20250101").id == "20250101-100000-aaaaaa"
    with pytest.raises(SessionNotFound, match="fits 2 sessions"):
        find_session(sessions, "2025")
    with pytest.raises(SessionNotFound, match="glmcode sessions"):
        find_session(sessions, "zzz")
    lines = list(format_sessions(sessions, now=3000.0))
    assert "20250102-100000-bbbbbb" in lines[0] and "1 turn " in lines[0] and "$ 0.2500" in lines[0]
    assert lines[0].startswith("1  ") and lines[0].endswith("add a flag")
