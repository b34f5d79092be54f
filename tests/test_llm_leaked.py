"""Tool calls GLM wrote into its text, turned back into calls."""

from __future__ import annotations

import json

from glmcode.llm.leaked import clean_tool_name, recover_leaked_calls
from glmcode.llm.types import ModelReply

TOOLS = frozenset({"read_file", "run_shell", "edit_file"})


def reply(content: str, finish: str = "stop", reasoning: str = "") -> ModelReply:
    return ModelReply(content=content, reasoning=reasoning, tool_calls=(), finish_reason=finish)


def args(call) -> dict:
    return json.loads(call.arguments)


def test_single_block_with_newlines() -> None:
    text = (
        "Let me look.\n<tool_call>read_file\n<arg_key>path</arg_key>\n"
        "<arg_value>src/app.py</arg_value>\n<arg_key>limit</arg_key>\n"
        "<arg_value>50</arg_value>\n</tool_call>"
    )
    out = recover_leaked_calls(reply(text), TOOLS)
    [call] = out.tool_calls
    assert call.name == "read_file" and call.id.startswith("call_") and call.index == 0
    assert args(call) == {"path": "src/app.py", "limit": 50}
    assert out.content == "Let me look."
    assert out.finish_reason == "tool_calls"


def test_several_blocks_without_newlines_and_json_values() -> None:
    text = (
        "<tool_call>run_shell<arg_key>command</arg_key><arg_value>ls -la</arg_value></tool_call>"
        "<tool_call>edit_file<arg_key>path</arg_key><arg_value>a.py</arg_value>"
        "<arg_key>replace_all</arg_key><arg_value>true</arg_value>"
        '<arg_key>old_string</arg_key><arg_value>"quoted"</arg_value>'
        "<arg_key>new_string</arg_key><arg_value>[1, 2]</arg_value></tool_call>"
    )
    out = recover_leaked_calls(reply(text), TOOLS)
    first, second = out.tool_calls
    assert (first.name, args(first)) == ("run_shell", {"command": "ls -la"})
    assert second.name == "edit_file"
    # true and [1, 2] are JSON; a JSON string literal stays the raw text, quotes included.
    assert args(second) == {
        "path": "a.py",
        "replace_all": True,
        "old_string": '"quoted"',
        "new_string": [1, 2],
    }
    assert first.id != second.id and [first.index, second.index] == [0, 1]
    assert out.content == ""


def test_values_are_kept_verbatim() -> None:
    body = "def f():\n    return 1\n"
    text = (
        "<tool_call>edit_file<arg_key>path</arg_key><arg_value>x.py</arg_value>"
        f"<arg_key>new_string</arg_key><arg_value>{body}</arg_value></tool_call>"
    )
    [call] = recover_leaked_calls(reply(text), TOOLS).tool_calls
    assert args(call)["new_string"] == body


def test_think_text_before_the_call_becomes_reasoning() -> None:
    text = (
        "<think>I need the file first.</think>\n"
        "<tool_call>read_file<arg_key>path</arg_key><arg_value>a.py</arg_value></tool_call>"
    )
    out = recover_leaked_calls(reply(text, reasoning="earlier"), TOOLS)
    assert out.reasoning == "earlier\nI need the file first."
    assert out.content == ""
    assert [c.name for c in out.tool_calls] == ["read_file"]

    only_close = (
        "Reading it.</think>"
        "<tool_call>read_file<arg_key>path</arg_key><arg_value>a.py</arg_value></tool_call>"
    )
    out = recover_leaked_calls(reply(only_close), TOOLS)
    assert (out.reasoning, out.content) == ("Reading it.", "")


def test_call_without_arguments() -> None:
    out = recover_leaked_calls(reply("<tool_call>run_shell</tool_call>"), None)
    assert [(c.name, c.arguments) for c in out.tool_calls] == [("run_shell", "{}")]


def test_malformed_blocks_are_left_alone() -> None:
    for text in (
        "<tool_call>read_file<arg_key>path</arg_key><arg_value>a.py</arg_value>",
        "<tool_call>read_file<arg_key>path</arg_key></tool_call>",
        "<tool_call>read_file<arg_key>path</arg_key>oops<arg_value>a</arg_value></tool_call>",
        "<tool_call>read file<arg_key>path</arg_key><arg_value>a</arg_value></tool_call>",
        "<tool_call></tool_call>",
    ):
        assert recover_leaked_calls(reply(text), TOOLS) == reply(text)


def test_unknown_tool_left_alone_but_any_name_when_no_set_given() -> None:
    text = "<tool_call>delete_repo<arg_key>force</arg_key><arg_value>1</arg_value></tool_call>"
    assert recover_leaked_calls(reply(text), TOOLS) == reply(text)
    [call] = recover_leaked_calls(reply(text), None).tool_calls
    assert (call.name, args(call)) == ("delete_repo", {"force": 1})


def test_mixed_blocks_convert_only_the_good_ones() -> None:
    good = "<tool_call>run_shell<arg_key>command</arg_key><arg_value>pwd</arg_value></tool_call>"
    bad = "<tool_call>nope<arg_key>x</arg_key><arg_value>1</arg_value></tool_call>"
    out = recover_leaked_calls(reply(f"A {bad} B {good}"), TOOLS)
    assert [c.name for c in out.tool_calls] == ["run_shell"]
    assert out.content == f"A {bad} B"


def test_only_for_a_normal_stop_without_structured_calls() -> None:
    text = "<tool_call>run_shell<arg_key>command</arg_key><arg_value>ls</arg_value></tool_call>"
    for finish in ("length", "tool_calls"):
        assert recover_leaked_calls(reply(text, finish), TOOLS) == reply(text, finish)
    plain = reply("No calls here, just <b>markup</b>.")
    assert recover_leaked_calls(plain, TOOLS) is plain


def test_clean_tool_name() -> None:
    assert clean_tool_name("read_file", "{}") == ("read_file", "{}")
    assert clean_tool_name(" grep\n", "{}") == ("grep", "{}")
    assert clean_tool_name("grep<arg_key>pattern</arg_key>", '{"pattern": "x"}') == (
        "grep",
        '{"pattern": "x"}',
    )
    name, arguments = clean_tool_name(
        "<tool_call>glob<arg_key>pattern</arg_key><arg_value>*.py</arg_value>", "{}"
    )
    assert (name, json.loads(arguments)) == ("glob", {"pattern": "*.py"})
    # Nothing usable before the junk: keep the name as it came, the agent reports it.
    assert clean_tool_name("<arg_key>x", "{}") == ("<arg_key>x", "{}")
