"""What one turn of `glmcode acp` looks like to the editor: chunks, tool calls, approvals,
cancels, stop reasons. One agent process serves every test here, each test in a session (and a
folder) of its own, so they also show that sessions in one process keep apart."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from acp_harness import HOLD, AgentProcess, Turns, texts

from glmcode.testing import FakeGLM


@dataclass
class Shared:
    agent: AgentProcess
    fake: FakeGLM
    turns: Turns


@dataclass
class Editor:
    """One test's view of the shared agent: its session, its folder, its turns."""

    agent: AgentProcess
    fake: FakeGLM
    session: str
    folder: Path
    first_request: int

    def prompt(self, text: str) -> dict[str, Any]:
        return self.agent.prompt(self.session, text)

    def start_prompt(self, text: str) -> int:
        return self.agent.request("session/prompt", {"sessionId": self.session, "prompt": [{"type": "text", "text": text}]})

    def updates(self, kind: str) -> list[dict[str, Any]]:
        return self.agent.updates(kind, self.session)

    def requests(self) -> list[Any]:
        return self.fake.requests[self.first_request:]

    def set_mode(self, mode: str) -> dict[str, Any]:
        return self.agent.call("session/set_mode", {"sessionId": self.session, "modeId": mode})


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shared]:
    home = tmp_path_factory.mktemp("home")
    turns = Turns()
    fake = FakeGLM([turns] * 500).start()
    env = {"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"), "XDG_STATE_HOME": str(home / "state"),
           "ZAI_API_KEY": "test-key", "GLMCODE_BASE_URL": fake.base_url, "NO_PROXY": "127.0.0.1,localhost",
           # Commands unsandboxed, so a pid a command writes is one the tests can look up (a
           # sandboxed command has a pid namespace of its own); the sandbox is tested on its own.
           "GLMCODE_SANDBOX": "off"}
    for name in ("GLMCODE_API_KEY", "GLMCODE_MODEL", "GLMCODE_PROVIDER", "GLMCODE_PERMISSION_MODE", "ZAI_BASE_URL"):
        os.environ.pop(name, None)
    agent = AgentProcess(tmp_path_factory.mktemp("start"), env)
    agent.initialize()
    yield Shared(agent, fake, turns)
    agent.kill()
    fake.stop()


@pytest.fixture
def editor(shared: Shared, tmp_path: Path) -> Editor:
    def start(turns: list[Any], mode: str | None = None) -> Editor:
        shared.turns.queue.clear()
        shared.turns.queue.extend(turns)
        shared.agent.handlers.clear()
        folder = tmp_path / "project"
        folder.mkdir(exist_ok=True)
        view = Editor(shared.agent, shared.fake, shared.agent.new_session(folder), folder, len(shared.fake.requests))
        if mode is not None:
            assert "result" in view.set_mode(mode)
        return view

    return start  # type: ignore[return-value]


def _shell(command: str, call_id: str) -> dict[str, Any]:
    return {"name": "run_shell", "arguments": {"command": command}, "id": call_id}


def _answer_with(*option_ids: str) -> Any:
    answers = iter(option_ids)
    return lambda params: {"outcome": {"outcome": "selected", "optionId": next(answers)}}


def test_reasoning_comes_as_thought_chunks(editor) -> None:
    e = editor([{"reasoning": ["The user ", "wants OK."], "content": "OK"}])
    assert e.prompt("Say OK")["result"]["stopReason"] == "end_turn"
    assert texts(e.updates("agent_thought_chunk")) == "The user wants OK."
    assert texts(e.updates("agent_message_chunk")) == "OK"


def test_an_edit_shows_as_a_tool_call_with_its_diff(editor, tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "notes.txt").write_text("one\ntwo\n")
    edit = {"name": "edit_file", "arguments": {"path": "notes.txt", "old_string": "two", "new_string": "TWO"}, "id": "call_1"}
    e = editor([{"tool_calls": [edit]}, {"content": "Done."}], mode="auto-edit")
    assert e.prompt("Shout two")["result"]["stopReason"] == "end_turn"
    start, = e.updates("tool_call")
    assert start["toolCallId"] == "call_1"
    assert start["kind"] == "edit" and start["title"] == "Edit notes.txt"
    assert start["status"] == "in_progress"
    path = str((project / "notes.txt").resolve())
    assert start["locations"] == [{"path": path}]
    done, = e.updates("tool_call_update")
    assert done["status"] == "completed"
    assert done["content"] == [{"type": "diff", "path": path, "oldText": "one\ntwo\n", "newText": "one\nTWO\n"}]
    assert (project / "notes.txt").read_text() == "one\nTWO\n"
    assert texts(e.updates("agent_message_chunk")) == "Done."


def test_the_plan_of_todo_write_is_the_editors_plan(editor) -> None:
    todos = [{"content": "read the code", "status": "completed"}, {"content": "fix the bug", "status": "in_progress"}]
    e = editor([{"tool_calls": [{"name": "todo_write", "arguments": {"todos": todos}}]}, {"content": "ok"}])
    e.prompt("Plan it")
    plan, = e.updates("plan")
    assert plan["entries"] == [
        {"content": "read the code", "priority": "medium", "status": "completed"},
        {"content": "fix the bug", "priority": "medium", "status": "in_progress"},
    ]
    assert e.updates("tool_call")[0]["kind"] == "think"


def test_a_command_waits_for_the_editors_answer_allow_then_reject(editor) -> None:
    e = editor([
        {"tool_calls": [_shell("touch allowed.txt", "call_a")]}, {"content": "made it"},
        {"tool_calls": [_shell("touch rejected.txt", "call_r")]}, {"content": "fine"},
    ], mode="ask")
    e.agent.handlers["session/request_permission"] = _answer_with("allow_once", "reject_once")
    assert e.prompt("make a file")["result"]["stopReason"] == "end_turn"
    assert (e.folder / "allowed.txt").exists()
    first = e.agent.asked("session/request_permission", e.session)[0]["params"]
    assert first["toolCall"]["toolCallId"] == "call_a" and first["toolCall"]["kind"] == "execute"
    assert first["toolCall"]["status"] == "pending"
    assert "touch allowed.txt" in first["toolCall"]["content"][0]["content"]["text"]
    assert [(o["optionId"], o["kind"]) for o in first["options"]] == [
        ("allow_once", "allow_once"), ("allow_always", "allow_always"), ("reject_once", "reject_once")]
    assert first["options"][1]["name"] == "Always allow run_shell:touch* in this project"
    statuses = [u.get("status") for u in e.updates("tool_call_update") if u["toolCallId"] == "call_a"]
    assert statuses == ["in_progress", "completed"]

    assert e.prompt("make another")["result"]["stopReason"] == "end_turn"
    assert not (e.folder / "rejected.txt").exists()
    tool_answer = e.requests()[3].body["messages"][-1]
    assert tool_answer["role"] == "tool" and "declined" in tool_answer["content"]
    failed = [u for u in e.updates("tool_call_update") if u["toolCallId"] == "call_r"]
    assert failed[-1]["status"] == "failed"


def test_always_saves_the_rule_the_terminal_would(editor) -> None:
    e = editor([
        {"tool_calls": [_shell("touch one.txt", "c1")]},
        {"tool_calls": [_shell("touch two.txt", "c2")]},
        {"content": "both"},
    ], mode="ask")
    e.agent.handlers["session/request_permission"] = _answer_with("allow_always")
    assert e.prompt("two files")["result"]["stopReason"] == "end_turn"
    assert (e.folder / "one.txt").exists() and (e.folder / "two.txt").exists()
    assert len(e.agent.asked("session/request_permission", e.session)) == 1  # the rule allowed the second
    config = (e.folder / ".glmcode" / "config.toml").read_text()
    assert 'allow = ["run_shell:touch*"]' in config
    assert "saved run_shell:touch* to .glmcode/config.toml" in texts(e.updates("agent_message_chunk"))


def test_read_only_mode_refuses_without_asking(editor) -> None:
    e = editor([{"tool_calls": [_shell("touch x.txt", "c1")]}, {"content": "could not"}], mode="read-only")
    assert e.prompt("make x")["result"]["stopReason"] == "end_turn"
    assert not (e.folder / "x.txt").exists()
    assert e.agent.asked("session/request_permission", e.session) == []
    assert e.set_mode("yolo")["error"]["code"] == -32602


def test_cancel_mid_stream_ends_the_turn_cancelled(editor) -> None:
    pieces = [f"word{n} " for n in range(400)]
    e = editor([{"content": pieces, "delay": 0.01}, {"content": "after"}])
    request = e.start_prompt("talk")
    e.agent.wait_update(lambda u: u["sessionUpdate"] == "agent_message_chunk")
    e.agent.notify("session/cancel", {"sessionId": e.session})
    assert e.agent.wait_response(request)["result"] == {"stopReason": "cancelled"}
    streamed = texts(e.updates("agent_message_chunk"))
    assert streamed.startswith("word0 ") and len(streamed) < len("".join(pieces))
    # The conversation goes on from what was streamed.
    assert e.prompt("go on")["result"]["stopReason"] == "end_turn"
    sent = e.requests()[1].body["messages"]
    assert sent[-2]["role"] == "assistant" and sent[-2]["content"].startswith("word0 ")
    assert sent[-1] == {"role": "user", "content": "go on"}


def test_cancel_before_the_first_byte_does_not_wait_for_it(editor) -> None:
    arrived = threading.Event()

    def slow(body: dict[str, Any]) -> dict[str, Any]:
        arrived.set()
        return {"content": "late", "first_byte_delay": 20}

    e = editor([slow, {"content": "next"}])
    request = e.start_prompt("slow")
    assert arrived.wait(30)
    began = time.monotonic()
    e.agent.notify("session/cancel", {"sessionId": e.session})
    assert e.agent.wait_response(request)["result"] == {"stopReason": "cancelled"}
    assert time.monotonic() - began < 10
    assert e.updates("agent_message_chunk") == []
    assert e.prompt("again")["result"]["stopReason"] == "end_turn"
    assert texts(e.updates("agent_message_chunk")) == "next"


SLEEPER = "sleep 300 & echo $! > sleep.pid; : > started; wait"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


def test_cancel_while_a_command_runs_kills_it(editor, tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    os.mkfifo(project / "started")
    e = editor([{"tool_calls": [_shell(SLEEPER, "s1")]}, {"content": "never"}], mode="full-auto")
    request = e.start_prompt("wait")
    with open(project / "started", "rb") as ready:  # the command opens it once its pid is written
        ready.read()
    pid = int((project / "sleep.pid").read_text())
    assert _alive(pid)
    e.agent.notify("session/cancel", {"sessionId": e.session})
    assert e.agent.wait_response(request)["result"] == {"stopReason": "cancelled"}
    assert not _alive(pid)
    assert len(e.requests()) == 1


def test_cancel_while_the_editor_asks(editor) -> None:
    e = editor([{"tool_calls": [_shell("touch never.txt", "c1")]}, {"content": "ok then"}], mode="ask")
    e.agent.handlers["session/request_permission"] = lambda params: HOLD  # the editor is slow to answer
    request = e.start_prompt("touch")
    e.agent.serve_until(lambda: bool(e.agent.asked("session/request_permission", e.session)))
    asked = e.agent.asked("session/request_permission", e.session)[0]
    e.agent.notify("session/cancel", {"sessionId": e.session})
    assert e.agent.wait_response(request)["result"] == {"stopReason": "cancelled"}
    e.agent.send({"jsonrpc": "2.0", "id": asked["id"], "result": {"outcome": {"outcome": "cancelled"}}})
    assert not (e.folder / "never.txt").exists()
    assert e.prompt("fine")["result"]["stopReason"] == "end_turn"
    sent = e.requests()[1].body["messages"]
    assert sent[-2]["role"] == "tool" and "interrupted" in sent[-2]["content"]


def test_a_refused_reply_stops_with_refusal(editor) -> None:
    e = editor([{"content": "I", "finish_reason": "sensitive"}])
    assert e.prompt("something bad")["result"]["stopReason"] == "refusal"


def test_an_api_error_is_a_json_rpc_error_with_glmcodes_message(editor) -> None:
    e = editor([{"error": {"status": 401, "code": "1000", "message": "bad key"}}])
    response = e.prompt("hi")
    assert response["error"]["code"] == -32603
    assert response["error"]["data"]["kind"] == "auth"
    assert "key" in response["error"]["message"].lower()
