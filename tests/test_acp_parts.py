"""The pieces of `glmcode acp` that need no process: a saved conversation told again, prompts
read, messages checked, output fenced."""

from __future__ import annotations

from pathlib import Path

import pytest
from acp import RequestError, schema

from glmcode.acp.history import history_updates
from glmcode.acp.prompt import prompt_text
from glmcode.acp.transport import _invalid
from glmcode.acp.updates import fenced, title
from glmcode.tools.base import ToolContext


def test_a_saved_conversation_is_told_again_with_its_tool_calls(tmp_path: Path) -> None:
    call = {"id": "c1", "type": "function", "function": {"name": "read_file", "arguments": '{"path": "a.py"}'}}
    messages = [
        {"role": "user", "content": "look at a.py"},
        {"role": "assistant", "content": "", "reasoning_content": "reading", "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "c1", "content": "     1\tx = 1"},
        {"role": "assistant", "content": "It sets x."},
    ]
    out = list(history_updates(messages, ToolContext(tmp_path), {"read_file": "read"}))
    kinds = [u.session_update for u in out]
    assert kinds == ["user_message_chunk", "agent_thought_chunk", "tool_call", "tool_call_update", "agent_message_chunk"]
    start, result = out[2], out[3]
    assert start.title == "Read a.py" and start.kind == "read" and start.locations[0].path == str(tmp_path / "a.py")
    assert result.status == "completed" and "x = 1" in result.content[0].content.text


def test_a_failed_call_in_the_history_shows_failed(tmp_path: Path) -> None:
    out = list(history_updates([{"role": "tool", "tool_call_id": "c9", "content": "Error: no such file"}],
                               ToolContext(tmp_path), {}))
    assert out[0].status == "failed"


def test_prompt_blocks_become_the_models_text() -> None:
    blocks = [
        schema.TextContentBlock(type="text", text="Compare "),
        schema.ResourceContentBlock(type="resource_link", name="b.py", uri="file:///src/my%20b.py"),
        schema.TextContentBlock(type="text", text=" with this:"),
        schema.EmbeddedResourceContentBlock(type="resource", resource=schema.TextResourceContents(uri="file:///src/a.py", text="x = 1\n")),
    ]
    assert prompt_text(blocks) == "Compare @/src/my b.py with this:\n\nThe file /src/a.py:\n```\nx = 1\n```\n"
    with pytest.raises(RequestError):
        prompt_text([schema.TextContentBlock(type="text", text="  ")])
    with pytest.raises(RequestError):
        prompt_text([schema.ImageContentBlock(type="image", data="AA", mime_type="image/png")])


def test_what_is_no_json_rpc_message() -> None:
    assert _invalid({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}) is None
    assert _invalid({"jsonrpc": "2.0", "method": "session/cancel"}) is None
    assert _invalid({"jsonrpc": "2.0", "id": 3, "result": {}}) is None
    assert _invalid([1]) is not None
    assert _invalid({"id": 1, "method": "x"}) is not None  # no "jsonrpc": "2.0"
    assert _invalid({"jsonrpc": "2.0", "id": 1, "method": 5}) is not None
    assert _invalid({"jsonrpc": "2.0", "id": 1, "method": "x", "params": "no"}) is not None
    assert _invalid({"jsonrpc": "2.0", "id": 1}) is not None


def test_a_fence_no_line_of_the_text_can_close() -> None:
    assert fenced("a\n```\nb") == "````\na\n```\nb\n````"
    assert fenced("plain", "sh") == "```sh\nplain\n```"


def test_titles_say_what_a_call_does() -> None:
    assert title("run_shell", {"command": "pytest -q\nmore"}) == "Run `pytest -q …`"
    assert title("grep", {"pattern": "TODO", "path": "src"}) == "Search `TODO` in src"
    assert title("apply_patch", {"patch": "*** Begin Patch\n*** Update File: a.py\n*** Add File: b.py\n"}) == "Patch a.py, b.py"
    assert title("mystery_tool", {}) == "mystery_tool"
