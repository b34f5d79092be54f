"""The interactive session end to end: the real `glmcode` in a pseudo-terminal, the fake GLM
server over HTTP, and the screen as a terminal would show it (pyte)."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tui_harness import Term, sessions

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ANSWER = (
    "\n# Greeting\n\nHere is **bold** text and `inline code`.\n\n- first item\n- second item\n\n"
    "```python\ndef add(a, b):\n    return a + b\n```\n\nThat is all."
)
USAGE = {"prompt_tokens": 12_000, "completion_tokens": 150, "cached_tokens": 9_000}


@pytest.fixture
def session(fake_glm, tmp_path: Path) -> Iterator[Callable[..., tuple[Term, object, Path]]]:
    project = tmp_path / "project"
    project.mkdir()

    with sessions(fake_glm, project) as start:
        yield start


def _edit(old: str, new: str) -> dict:
    return {"tool_calls": [{"name": "edit_file", "arguments": {"path": "calc.py", "old_string": old, "new_string": new}}]}


def test_a_prompt_streams_reasoning_and_a_markdown_answer(session) -> None:
    term, fake, _ = session([{"reasoning": "\nThe user greets me.", "content": ANSWER, "usage": USAGE}])
    term.send("hello\r")
    screen = term.wait("That is all.")
    assert "Greeting" in screen and "# Greeting" not in screen
    assert "Here is bold text and inline code." in screen
    assert "• first item" in screen
    assert "```python\ndef add(a, b):\n    return a + b\n```" in screen
    assert "Thought for" in screen and "/reasoning" in screen
    assert fake.requests[0].body["messages"][-1] == {"role": "user", "content": "hello"}


def test_the_status_line_shows_model_mode_context_tokens_and_cost(session) -> None:
    term, _, _ = session([{"content": "ok", "usage": USAGE}])
    assert "glm-4.6" in term.bottom() and "ask" in term.bottom()
    term.send("hello\r")
    term.wait(lambda _: "12k in" in term.bottom())
    bottom = term.bottom()
    # 12,000 of glm-4.6's 204,800 tokens; 3,000 fresh at $0.60/M + 9,000 cached at $0.11/M + 150 out at $2.20/M
    assert "ctx 6%" in bottom
    assert "150 out" in bottom
    assert "75% cached" in bottom
    assert "$0.0031" in bottom


def test_the_first_prompt_can_be_given_on_the_command_line(session) -> None:
    term, fake, _ = session([{"content": "Hi there."}], args=["say hi"], wait=False)
    term.wait("Hi there.")
    term.wait("›")
    assert fake.requests[0].body["messages"][-1]["content"] == "say hi"


def test_an_edit_shows_its_diff_asks_and_applies_on_yes(session) -> None:
    term, fake, project = session([_edit("a - b", "a + b"), {"content": "Fixed it."}])
    (project / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    term.send("fix calc.py\r")
    screen = term.wait("y yes")
    assert "-    return a - b" in screen and "+    return a + b" in screen
    assert (project / "calc.py").read_text().endswith("a - b\n")
    term.send("y")
    term.wait("Fixed it.")
    assert (project / "calc.py").read_text() == "def add(a, b):\n    return a + b\n"
    assert fake.requests[1].body["messages"][-1]["role"] == "tool"


def test_no_with_a_reason_leaves_the_file_and_tells_the_model_why(session) -> None:
    term, fake, project = session([_edit("a - b", "a + b"), {"content": "Understood."}])
    (project / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    term.send("fix calc.py\r")
    term.wait("y yes")
    term.send("n")
    term.wait("Why not?")
    term.send("the tests expect subtraction\r")
    term.wait("Understood.")
    assert (project / "calc.py").read_text() == "def add(a, b):\n    return a - b\n"
    tool_message = fake.requests[1].body["messages"][-1]
    assert tool_message["role"] == "tool"
    assert "declined" in tool_message["content"]
    assert "the tests expect subtraction" in tool_message["content"]


def test_always_for_a_command_prefix_saves_the_rule_to_the_project(session) -> None:
    shell = {"tool_calls": [{"name": "run_shell", "arguments": {"command": "touch made.txt"}}]}
    term, _, project = session([shell, {"content": "Made it."}])
    term.send("make a file\r")
    screen = term.wait("y yes")
    assert "$ touch made.txt" in screen
    term.send("p")
    term.wait("Made it.")
    assert (project / "made.txt").exists()
    config = tomllib.loads((project / ".glmcode" / "config.toml").read_text())
    assert config["permissions"]["allow"] == ["run_shell:touch*"]


def test_ctrl_c_mid_stream_keeps_the_partial_answer_and_the_session_goes_on(session) -> None:
    slow = {"content": ["First words", " of a long", " answer", *[" and more"] * 200], "delay": 0.1}
    term, fake, _ = session([slow, {"content": "Second answer."}])
    term.send("write a lot\r")
    term.wait("First words")
    term.send("\x03")
    term.wait("Interrupted")
    term.wait(lambda _: "ask (shift-tab)" in term.bottom())
    term.send("go on\r")
    term.wait("Second answer.")
    messages = fake.requests[1].body["messages"]
    partial = messages[-2]
    assert partial["role"] == "assistant" and partial["content"].startswith("First words")
    assert messages[-1] == {"role": "user", "content": "go on"}


def test_ctrl_c_stops_a_running_command_and_the_session_goes_on(session) -> None:
    shell = {"tool_calls": [{"name": "run_shell", "arguments": {"command": "echo $$ > pid.txt; sleep 60"}}]}
    # Unsandboxed, so that $$ is a pid of this machine (tests/test_sandbox_escape.py kills a
    # sandboxed command).
    term, fake, project = session([shell, {"content": "Stopped, then resumed."}], args=["--full-auto", "--sandbox", "off"])
    term.send("wait a minute\r")
    term.wait("Running run_shell")
    term.send("\x03")
    term.wait("Interrupted")
    assert "✗ run_shell  echo $$ > pid.txt; sleep 60  interrupted" in term.text()
    pid = int((project / "pid.txt").read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    # Typed before the prompt is back, Enter would reach the terminal in cooked mode as a
    # newline, which the prompt reads as a new line rather than a send.
    term.wait(lambda _: "(shift-tab)" in term.bottom())
    term.send("and now?\r")
    term.wait("Stopped, then resumed.")
    tool_message = fake.requests[1].body["messages"][-2]
    assert tool_message["role"] == "tool" and "interrupted" in tool_message["content"]


def test_help_lists_the_commands_and_a_typo_gets_a_suggestion(session) -> None:
    term, _, _ = session([])
    term.send("/help\r")
    term.wait("attach a file")  # the last line of the help
    # The help is taller than the screen, so its first lines are read from the output itself.
    shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", term.raw)
    for usage in ("/help", "/clear", "/model [NAME]", "/mode [NAME]", "/cost", "/context", "/diff", "/init", "/exit",
                  "/undo", "/rewind [TO]", "/resume [SESSION_ID]", "/compact [FOCUS]"):
        assert usage in shown
    term.send("/hepl\r")
    term.wait("Unknown command /hepl. Did you mean /help?")


def test_shift_tab_and_mode_command_change_the_permission_mode(session) -> None:
    term, _, _ = session([])
    term.send("\x1b[Z")
    term.wait(lambda _: "auto-edit (shift-tab)" in term.bottom())
    term.send("/mode read-only\r")
    term.wait(lambda _: "read-only (shift-tab)" in term.bottom())


def test_ctrl_c_clears_the_prompt_and_twice_on_an_empty_prompt_exits(session) -> None:
    term, _, _ = session([])
    term.send("some text")
    term.wait("› some text")
    term.send("\x03")
    term.wait(lambda screen: "some text" not in screen)
    term.send("\x03")
    term.wait("Ctrl-C again")
    term.send("\x03")
    assert term.wait_exit() == 0


def test_shell_escape_shows_output_and_the_next_message_carries_it(session) -> None:
    term, fake, _ = session([{"content": "Noted."}])
    term.send("!echo from-the-shell\r")
    term.wait("exit 0")
    assert "from-the-shell" in term.text()
    term.send("what did it print?\r")
    term.wait("Noted.")
    content = fake.requests[0].body["messages"][-1]["content"]
    assert "echo from-the-shell" in content and "from-the-shell\n" in content
    assert content.endswith("what did it print?")


def test_a_mentioned_file_is_attached(session) -> None:
    term, fake, project = session([{"content": "Read it."}])
    (project / "notes.txt").write_text("alpha\nbeta\n")
    term.send("summarize @notes.txt please\r")
    term.wait("Read it.")
    assert "attached @notes.txt (2 lines)" in term.text()
    content = fake.requests[0].body["messages"][-1]["content"]
    assert content.startswith("summarize @notes.txt please")
    assert '<attached path="notes.txt" lines="2">\nalpha\nbeta\n</attached>' in content


def test_reasoning_command_shows_the_whole_reasoning(session) -> None:
    reasoning = "Step one: read.\nStep two: think about the greeting.\nStep three: answer.\nStep four: done."
    term, _, _ = session([{"reasoning": reasoning, "content": "Hello."}])
    term.send("hi\r")
    term.wait("Hello.")
    term.send("/reasoning\r")
    screen = term.wait("Step four: done.")
    assert "Step one: read." in screen


def test_without_a_terminal_the_session_reads_lines_and_prints_plain_text(fake_glm, tmp_path: Path) -> None:
    from conftest import run_glmcode

    fake = fake_glm([{"content": "**Plain** answer."}])
    proc = run_glmcode([], tmp_path, {"ZAI_API_KEY": "k", "GLMCODE_BASE_URL": fake.base_url},
                       stdin="hello\n/cost\n")
    assert proc.returncode == 0, proc.stderr
    assert "**Plain** answer." in proc.stdout
    assert "\x1b" not in proc.stdout
    assert "output tokens" in proc.stdout


def test_without_a_terminal_approvals_are_answered_by_lines(fake_glm, tmp_path: Path) -> None:
    from conftest import run_glmcode

    (tmp_path / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    fake = fake_glm([_edit("a - b", "a + b"), {"content": "Fixed."}, _edit("a + b", "a * b"), {"content": "Left it."}])
    proc = run_glmcode([], tmp_path, {"ZAI_API_KEY": "k", "GLMCODE_BASE_URL": fake.base_url},
                       stdin="fix it\ny\nnow multiply\nn because sums are right\n")
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "calc.py").read_text() == "def add(a, b):\n    return a + b\n"
    assert "+    return a + b" in proc.stdout and "Fixed." in proc.stdout and "Left it." in proc.stdout
    assert "because sums are right" in fake.requests[3].body["messages"][-1]["content"]


def test_a_missing_key_says_what_to_do_and_exits_2(tmp_path: Path) -> None:
    from conftest import run_glmcode

    proc = run_glmcode([], tmp_path, stdin="hello\n")
    assert proc.returncode == 2
    assert "ZAI_API_KEY" in proc.stderr and "Traceback" not in proc.stderr


def test_model_clear_diff_and_cost_commands(session) -> None:
    term, fake, project = session([_edit("a - b", "a + b"), {"content": "Edited."}, {"content": "Fresh start."}],
                                  args=["--permission-mode", "auto-edit"])
    (project / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    term.send("/model glm-4.5-air\r")
    term.wait(lambda _: "glm-4.5-air · auto-edit" in term.bottom())
    term.send("fix it\r")
    term.wait("Edited.")
    assert fake.requests[0].body["model"] == "glm-4.5-air"
    term.wait(lambda _: "(shift-tab)" in term.bottom())  # the prompt is back: Enter sends
    term.send("/diff\r")
    # once when it was made, once in /diff
    term.wait(lambda screen: "/diff\n● edit_file  calc.py" in screen and screen.count("+    return a + b") == 2)
    term.send("/cost\r")
    term.wait("output tokens")
    term.send("/clear\r")
    term.wait("New conversation")
    term.send("again\r")
    term.wait("Fresh start.")
    assert [m["role"] for m in fake.requests[2].body["messages"]] == ["system", "user"]


def test_history_is_kept_per_project_across_sessions(session) -> None:
    term, _, _ = session([])
    term.send("/cost\r")
    term.wait("output tokens")
    term.send("\x04")
    assert term.wait_exit() == 0
    again, _, _ = session([])
    again.send("\x1b[A")
    again.wait("› /cost")
