"""`glmcode acp` driven over stdio by a JSON-RPC client, as an editor drives it, against the
fake GLM."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from acp_harness import AgentProcess, texts


@pytest.fixture
def start_agent(tmp_path: Path) -> Iterator[Any]:
    started: list[AgentProcess] = []

    def start(fake: Any, cwd: Path | None = None, args: tuple[str, ...] = (), **env: str) -> AgentProcess:
        folder = cwd or tmp_path / "project"
        folder.mkdir(exist_ok=True)
        agent = AgentProcess(folder, {"ZAI_API_KEY": "test-key", "GLMCODE_BASE_URL": fake.base_url, **env}, args)
        started.append(agent)
        return agent

    yield start
    for agent in started:
        agent.kill()


def test_say_ok_streams_the_answer_and_ends_the_turn(fake_glm, start_agent, tmp_path: Path) -> None:
    fake = fake_glm([{"content": ["O", "K", ", done."]}])
    agent = start_agent(fake)
    init = agent.initialize()
    assert init["result"]["protocolVersion"] == 1
    assert init["result"]["agentCapabilities"]["loadSession"] is True
    session = agent.new_session(tmp_path / "project")
    response = agent.prompt(session, "Say OK")
    assert response["result"] == {"stopReason": "end_turn"}
    chunks = agent.updates("agent_message_chunk")
    assert len(chunks) == 3
    assert texts(chunks) == "OK, done."
    assert fake.requests[0].body["messages"][-1] == {"role": "user", "content": "Say OK"}
    assert agent.close() == 0
    assert all(line.startswith(b"{") for line in agent.raw_lines)


def _started(agent: AgentProcess, *, fs: dict[str, bool] | None = None, mode: str | None = None) -> str:
    agent.initialize(fs)
    session = agent.new_session(agent.cwd)
    if mode is not None:
        assert "result" in agent.call("session/set_mode", {"sessionId": session, "modeId": mode})
    return session


def test_reads_and_edits_go_through_the_editors_buffers(fake_glm, start_agent, tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    on_disk = project / "app.py"
    on_disk.write_text("x = 1\n")
    buffers = {str(on_disk.resolve()): "x = 1\ny = 2  # unsaved\n"}
    fake = fake_glm([
        {"tool_calls": [{"name": "read_file", "arguments": {"path": "app.py"}, "id": "r1"}]},
        {"tool_calls": [{"name": "edit_file", "arguments": {"path": "app.py", "old_string": "y = 2", "new_string": "y = 3"}, "id": "e1"}]},
        {"content": "ok"},
    ])
    agent = start_agent(fake)
    agent.handlers["fs/read_text_file"] = lambda p: {"content": buffers[p["path"]]}

    def write(params: dict[str, Any]) -> dict[str, Any]:
        buffers[params["path"]] = params["content"]
        return {}

    agent.handlers["fs/write_text_file"] = write
    session = _started(agent, fs={"readTextFile": True, "writeTextFile": True}, mode="auto-edit")
    assert agent.prompt(session, "bump y")["result"]["stopReason"] == "end_turn"
    read_result = fake.requests[1].body["messages"][-1]["content"]
    assert "y = 2  # unsaved" in read_result  # the model saw the unsaved buffer
    assert buffers[str(on_disk.resolve())] == "x = 1\ny = 3  # unsaved\n"
    assert on_disk.read_text() == "x = 1\n"  # the editor saves it, not glmcode
    reads = [r for r in agent.client_requests if r["method"] == "fs/read_text_file"]
    assert reads and all(r["params"]["sessionId"] == session for r in reads)
    diff = [u for u in agent.updates("tool_call_update") if u["toolCallId"] == "e1"][0]["content"][0]
    assert diff["oldText"] == "x = 1\ny = 2  # unsaved\n" and diff["newText"] == "x = 1\ny = 3  # unsaved\n"


def test_edits_outside_the_project_are_refused_in_the_editor_too(fake_glm, start_agent, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    fake = fake_glm([
        {"tool_calls": [{"name": "write_file", "arguments": {"path": str(outside), "content": "no"}, "id": "w1"}]},
        {"content": "refused"},
    ])
    agent = start_agent(fake)
    agent.handlers["fs/write_text_file"] = lambda p: {}
    session = _started(agent, fs={"readTextFile": True, "writeTextFile": True}, mode="full-auto")
    agent.handlers["fs/read_text_file"] = lambda p: {"content": ""}
    agent.prompt(session, "write outside")
    assert not [r for r in agent.client_requests if r["method"] == "fs/write_text_file"]
    assert not outside.exists()
    assert [u for u in agent.updates("tool_call_update") if u["toolCallId"] == "w1"][0]["status"] == "failed"


def test_a_saved_session_loads_with_its_history(fake_glm, start_agent, tmp_path: Path) -> None:
    fake = fake_glm([
        {"reasoning": "short", "content": "Hello there."},
        {"content": "You said hi."},
    ])
    first = start_agent(fake)
    session = _started(first)
    first.prompt(session, "hi")
    assert first.close() == 0

    second = start_agent(fake)
    second.initialize()
    response = second.call("session/load", {"sessionId": session, "cwd": str(tmp_path / "project"), "mcpServers": []})
    assert "result" in response, response
    assert response["result"]["modes"]["currentModeId"] == "ask"
    assert texts(second.updates("user_message_chunk")) == "hi"
    assert texts(second.updates("agent_thought_chunk")) == "short"
    assert texts(second.updates("agent_message_chunk")).startswith("Hello there.")
    assert second.prompt(session, "what did I say?")["result"]["stopReason"] == "end_turn"
    sent = fake.requests[1].body["messages"]
    assert [m["role"] for m in sent[1:]] == ["user", "assistant", "user"]
    listed = second.call("session/list", {"cwd": str(tmp_path / "project")})["result"]["sessions"]
    assert [s["sessionId"] for s in listed] == [session]
    missing = second.call("session/load", {"sessionId": "nope", "cwd": str(tmp_path / "project"), "mcpServers": []})
    assert "error" in missing


def test_malformed_messages_get_errors_and_the_agent_keeps_serving(fake_glm, start_agent) -> None:
    fake = fake_glm([{"content": "still here"}])
    agent = start_agent(fake)
    agent.write_line(b"{not json\n")
    assert agent.next_message()["error"]["code"] == -32700
    agent.write_line(b"[1, 2]\n")
    assert agent.next_message()["error"]["code"] == -32600
    agent.send({"jsonrpc": "2.0", "id": 41, "method": "no/such/method", "params": {}})
    assert agent.wait_response(41)["error"]["code"] == -32601
    agent.send({"jsonrpc": "2.0", "id": 42, "method": "session/new", "params": {"cwd": 7}})
    assert agent.wait_response(42)["error"]["code"] == -32602
    session = _started(agent)
    image = {"type": "image", "data": "AAAA", "mimeType": "image/png"}
    refused = agent.call("session/prompt", {"sessionId": session, "prompt": [image]})
    assert refused["error"]["code"] == -32602
    assert agent.prompt(session, "still?")["result"]["stopReason"] == "end_turn"
    assert texts(agent.updates("agent_message_chunk")) == "still here"


def test_two_sessions_at_once_do_not_mix(fake_glm, start_agent, tmp_path: Path) -> None:
    def answer(body: dict[str, Any]) -> dict[str, Any]:
        asked = body["messages"][-1]["content"]
        return {"content": [f"answer to {asked} "] * 30, "delay": 0.005}

    fake = fake_glm([answer, answer])
    agent = start_agent(fake)
    agent.initialize()
    one = agent.new_session(tmp_path / "project")
    (tmp_path / "other").mkdir()
    two = agent.new_session(tmp_path / "other")
    assert one != two
    first = agent.request("session/prompt", {"sessionId": one, "prompt": [{"type": "text", "text": "one"}]})
    second = agent.request("session/prompt", {"sessionId": two, "prompt": [{"type": "text", "text": "two"}]})
    done = {agent.wait_response(first)["result"]["stopReason"], agent.wait_response(second)["result"]["stopReason"]}
    assert done == {"end_turn"}
    by_session: dict[str, str] = {one: "", two: ""}
    for note in agent.notifications:
        update = note["params"]["update"]
        if update["sessionUpdate"] == "agent_message_chunk":
            by_session[note["params"]["sessionId"]] += update["content"]["text"]
    assert by_session[one] == "answer to one " * 30
    assert by_session[two] == "answer to two " * 30


def test_without_a_key_session_new_says_how_to_set_one(fake_glm, start_agent) -> None:
    fake = fake_glm([])
    agent = start_agent(fake, ZAI_API_KEY="")
    agent.initialize()
    response = agent.call("session/new", {"cwd": str(agent.cwd), "mcpServers": []})
    assert "ZAI_API_KEY" in response["error"]["message"]


def test_closing_stdin_ends_glmcode_and_the_commands_it_started(fake_glm, start_agent, tmp_path: Path) -> None:
    import os

    from test_acp_turns import SLEEPER, _alive, _shell

    project = tmp_path / "project"
    project.mkdir()
    os.mkfifo(project / "started")
    fake = fake_glm([{"tool_calls": [_shell(SLEEPER, "s1")]}, {"content": "never"}])
    # Unsandboxed, so the pid the command writes is one this test can look up (a sandboxed
    # command has a pid namespace of its own); the sandbox's own cleanup is tested in test_sandbox_*.
    agent = start_agent(fake, GLMCODE_SANDBOX="off")
    session = _started(agent, mode="full-auto")
    agent.request("session/prompt", {"sessionId": session, "prompt": [{"type": "text", "text": "wait"}]})
    with open(project / "started", "rb") as ready:  # the command opens it once its pid is written
        ready.read()
    pid = int((project / "sleep.pid").read_text())
    assert _alive(pid)
    assert agent.close() == 0
    assert not _alive(pid)


def _imported(stderr: str) -> set[str]:
    return {line.rsplit("|", 1)[-1].strip() for line in stderr.splitlines() if line.startswith("import time:")}


def _protocol_modules(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in ("acp", "pydantic", "pydantic_core") or m.startswith("glmcode.acp"))


def test_version_and_a_trivial_exec_turn_never_import_the_protocol(fake_glm, tmp_path: Path) -> None:
    from conftest import run_glmcode

    proc = run_glmcode(["--version"], tmp_path, {"PYTHONPROFILEIMPORTTIME": "1"})
    assert proc.returncode == 0
    modules = _imported(proc.stderr)
    assert "glmcode" in modules and _protocol_modules(modules) == []
    fake = fake_glm([{"content": "ok"}])
    env = {"ZAI_API_KEY": "k", "GLMCODE_BASE_URL": fake.base_url, "PYTHONPROFILEIMPORTTIME": "1"}
    proc = run_glmcode(["exec", "hi"], tmp_path, env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    modules = _imported(proc.stderr)
    assert "glmcode.agent.loop" in modules and _protocol_modules(modules) == []


def test_the_sdks_own_client_gets_the_answer(fake_glm, tmp_path: Path) -> None:
    """The acp package's client side, as editors built on it speak: embedded context in, chunks out."""
    import asyncio
    import os
    import sys

    import acp
    from acp import schema

    fake = fake_glm([{"content": ["Read ", "it."]}])
    project = tmp_path / "project"
    project.mkdir()

    class Editor:
        def __init__(self) -> None:
            self.chunks: list[str] = []

        async def session_update(self, session_id: str, update: Any, **kwargs: Any) -> None:
            if isinstance(update, schema.AgentMessageChunk):
                self.chunks.append(update.content.text)

    async def drive() -> tuple[str, list[str]]:
        editor = Editor()
        env = {**os.environ, "ZAI_API_KEY": "k", "GLMCODE_BASE_URL": fake.base_url}
        async with acp.spawn_agent_process(editor, sys.executable, "-m", "glmcode", "acp", env=env, cwd=project) as (conn, _):
            init = await conn.initialize(protocol_version=acp.PROTOCOL_VERSION)
            assert init.agent_capabilities.prompt_capabilities.embedded_context is True
            session = await conn.new_session(cwd=str(project), mcp_servers=[])
            attached = acp.resource_block(acp.embedded_text_resource(f"file://{project}/notes.md", "remember 42"))
            response = await conn.prompt(session_id=session.session_id, prompt=[acp.text_block("Read this: "), attached])
            return response.stop_reason, editor.chunks

    stop, chunks = asyncio.run(drive())
    assert stop == "end_turn" and "".join(chunks) == "Read it."
    sent = fake.requests[0].body["messages"][-1]["content"]
    assert sent.startswith("Read this: ") and f"The file {project}/notes.md:" in sent and "remember 42" in sent


def test_limits_stop_with_their_reasons(fake_glm, start_agent) -> None:
    fake = fake_glm([
        {"content": "cut sho", "finish_reason": "length"},
        {"tool_calls": [{"name": "glob", "arguments": {"pattern": "*"}}]},
        {"content": "never asked"},
    ])
    agent = start_agent(fake, args=("--max-turns", "1"))
    session = _started(agent)
    assert agent.prompt(session, "long answer")["result"]["stopReason"] == "max_tokens"
    assert agent.prompt(session, "look around")["result"]["stopReason"] == "max_turn_requests"
    assert len(fake.requests) == 2


def test_with_editor_terminal_commands_run_in_the_editors_terminal(fake_glm, start_agent, tmp_path: Path) -> None:
    from acp_harness import Terminals

    call = {"name": "run_shell", "arguments": {"command": "echo from the editor; exit 3"}, "id": "sh1"}
    fake = fake_glm([{"tool_calls": [call]}, {"content": "it failed"}])
    agent = start_agent(fake, args=("--editor-terminal", "--full-auto"), GLMCODE_SANDBOX="off")  # the terminal is used without one
    terminals = Terminals()
    terminals.install(agent)
    agent.initialize(terminal=True)
    session = agent.new_session(agent.cwd)
    assert agent.prompt(session, "run it")["result"]["stopReason"] == "end_turn"
    created, = terminals.created
    assert created["sessionId"] == session and created["cwd"] == str(agent.cwd.resolve())
    assert created["args"][-1] == "echo from the editor; exit 3"
    assert terminals.released == ["term-0"]
    shown = [u for u in agent.updates("tool_call_update") if u["toolCallId"] == "sh1"]
    assert shown[0]["content"] == [{"type": "terminal", "terminalId": "term-0"}]
    assert shown[-1]["status"] == "failed" and shown[-1]["content"] == [{"type": "terminal", "terminalId": "term-0"}]
    result = fake.requests[1].body["messages"][-1]["content"]
    assert "Exit code: 3" in result and "from the editor" in result


def test_a_cancel_kills_the_command_in_the_editors_terminal(fake_glm, start_agent) -> None:
    from acp_harness import HOLD, Terminals

    call = {"name": "run_shell", "arguments": {"command": "sleep 300"}, "id": "sh1"}
    fake = fake_glm([{"tool_calls": [call]}, {"content": "never"}])
    agent = start_agent(fake, args=("--editor-terminal", "--full-auto"), GLMCODE_SANDBOX="off")  # the terminal is used without one
    terminals = Terminals()
    terminals.install(agent)
    agent.initialize(terminal=True)
    session = agent.new_session(agent.cwd)

    def cancel_instead(params: dict[str, Any]) -> object:
        agent.notify("session/cancel", {"sessionId": session})
        return HOLD  # the command goes on until glmcode kills it

    agent.handlers["terminal/wait_for_exit"] = cancel_instead
    assert agent.prompt(session, "wait")["result"]["stopReason"] == "cancelled"
    assert terminals.procs["term-0"].poll() is not None
    assert [r["method"] for r in agent.client_requests if r["method"].startswith("terminal/")] == [
        "terminal/create", "terminal/wait_for_exit", "terminal/kill", "terminal/release"]
    assert len(fake.requests) == 1


def test_an_image_in_the_prompt_goes_to_the_vision_model(fake_glm, start_agent) -> None:
    import base64
    import io

    from PIL import Image as Pillow

    picture = io.BytesIO()
    Pillow.new("RGB", (30, 20), "red").save(picture, "PNG")
    fake = fake_glm([
        {"by_model": {"glm-4.6v": {"content": "A red rectangle, no text."}}},
        {"by_model": {"glm-4.6": {"content": "It is a red box."}}},
    ])
    agent = start_agent(fake)
    assert agent.initialize()["result"]["agentCapabilities"]["promptCapabilities"]["image"] is True
    session = agent.new_session(agent.cwd)
    blocks = [{"type": "text", "text": "what is this?"},
              {"type": "image", "mimeType": "image/png", "data": base64.b64encode(picture.getvalue()).decode()}]
    reply = agent.call("session/prompt", {"sessionId": session, "prompt": blocks})
    assert reply["result"]["stopReason"] == "end_turn"
    vision, main = fake.requests
    assert vision.body["model"] == "glm-4.6v" and "image_url" in str(vision.body["messages"][-1])
    assert main.body["model"] == "glm-4.6" and "image_url" not in str(main.body["messages"])
    assert "A red rectangle, no text." in main.body["messages"][-1]["content"]


def test_a_broken_image_is_invalid_params_and_nothing_is_sent(fake_glm, start_agent) -> None:
    fake = fake_glm([{"content": "never"}])
    agent = start_agent(fake)
    agent.initialize()
    session = agent.new_session(agent.cwd)
    blocks = [{"type": "text", "text": "look"}, {"type": "image", "mimeType": "image/png", "data": "bm90IGFuIGltYWdl"}]
    reply = agent.call("session/prompt", {"sessionId": session, "prompt": blocks})
    assert reply["error"]["code"] == -32602 and "not an image" in str(reply["error"])
    assert fake.requests == []


def test_the_editors_mcp_servers_start_with_the_session(fake_glm, start_agent, tmp_path: Path) -> None:
    import sys

    calc = Path(__file__).with_name("mcp_servers") / "calc.py"
    mark = tmp_path / "calc.mark"
    call = {"name": "mcp__calc__add", "arguments": {"a": 2, "b": 3}, "id": "m1"}
    fake = fake_glm([{"tool_calls": [call]}, {"content": "5"}])
    agent = start_agent(fake, args=("--full-auto",))
    caps = agent.initialize()["result"]["agentCapabilities"]["mcpCapabilities"]
    assert caps == {"http": True, "sse": True}
    server = {"name": "calc", "command": sys.executable, "args": [str(calc)],
              "env": [{"name": "CALC_MARK", "value": str(mark)}]}
    response = agent.call("session/new", {"cwd": str(agent.cwd), "mcpServers": [server]})
    session = response["result"]["sessionId"]
    assert agent.prompt(session, "add 2 and 3")["result"]["stopReason"] == "end_turn"
    assert "mcp__calc__add" in [t["function"]["name"] for t in fake.requests[0].body["tools"]]
    assert fake.requests[1].body["messages"][-1]["content"].strip() == "5"
    assert mark.read_text().startswith("started")
