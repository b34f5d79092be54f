"""MCP in the interactive session, in a pseudo-terminal: the approval prompt for a server's
tool, /mcp, /mcp restart, a server's prompt as a slash command, @SERVER:URI."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tui_harness import Term, sessions

CALC = Path(__file__).resolve().parent / "mcp_servers" / "calc.py"
SLOW = 60.0  # a busy machine takes seconds to start a server written in Python


@pytest.fixture
def session(fake_glm, tmp_path: Path) -> Iterator[Callable[..., tuple[Term, object, Path]]]:
    project = tmp_path / "project"
    project.mkdir()
    config = Path(os.environ["XDG_CONFIG_HOME"]) / "glmcode" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        f"[mcp_servers.calc]\ncommand = {json.dumps(sys.executable)}\nargs = [{json.dumps(str(CALC))}]\n"
        f"startup_timeout_s = {SLOW}\n"
    )

    with sessions(fake_glm, project) as start:
        yield start


def _prompt_back(term: Term) -> None:
    """Keys typed while a run ends could reach the terminal before the prompt reads them."""
    term.wait(lambda _: "(shift-tab)" in term.bottom())


def _add(call_id: str = "c1") -> dict:
    return {"tool_calls": [{"name": "mcp__calc__add", "arguments": {"a": 2, "b": 3}, "id": call_id}]}


def test_a_servers_tool_asks_first_and_always_for_the_server_is_offered(session) -> None:
    term, fake, project = session([_add("c1"), {"content": "It is 5."}, _add("c2"), {"content": "Still 5."}])
    term.send("add 2 and 3\r")
    screen = term.wait("y yes", timeout=SLOW)
    assert "mcp__calc__add" in screen and "MCP server calc, tool add" in screen
    assert "a always mcp__calc__add this session  p always every calc tool in this project" in screen
    term.send("p")
    term.wait("It is 5.")
    assert fake.requests[1].body["messages"][-1]["content"] == "5"
    assert 'allow = ["mcp__calc__*"]' in (project / ".glmcode" / "config.toml").read_text()
    _prompt_back(term)
    term.send("again\r")
    term.wait("Still 5.", timeout=SLOW)  # no question this time: the server's tools are allowed
    assert fake.requests[3].body["messages"][-1]["content"] == "5"


def test_mcp_command_prompts_resources_and_restart(session) -> None:
    term, fake, _ = session([{"content": "Hello."}, {"content": "Reviewed."}, {"content": "Noted."}, {"content": "Gone."}])
    term.send("hi\r")  # the first message waits for the servers still starting
    term.wait("Hello.", timeout=SLOW)
    _prompt_back(term)
    term.send("/mcp calc\r")
    screen = term.wait("@calc:notes://today")
    _prompt_back(term)
    assert "● calc  ready" in screen and "8 tools, 1 prompt, 1 resource" in screen
    assert "mcp__calc__add" in screen and "/mcp__calc__review" in screen

    term.send("/mcp__calc__review src/app.py\r")
    term.wait("Reviewed.")
    _prompt_back(term)
    assert fake.requests[1].body["messages"][-1]["content"] == "Please review src/app.py carefully."

    term.send("what is in @calc:no")
    term.wait("what is in @calc:no")
    term.send("\t ?\r")  # Tab completes the mention from the server's resources
    term.wait("Noted.")
    _prompt_back(term)
    message = fake.requests[2].body["messages"][-1]["content"]
    assert message.startswith("what is in calc:notes://today ?")
    assert '<attached resource="calc:notes://today">\nbuy milk\n</attached>' in message

    term.send("and @calc:notes://nope ?\r")
    screen = term.wait("Gone.")
    _prompt_back(term)
    assert "@calc:notes://nope not attached" in screen
    message = fake.requests[3].body["messages"][-1]["content"]
    assert message.startswith("and calc:notes://nope ?") and "The resource calc:notes://nope could not be read" in message

    term.send("/mcp restart calc\r")
    term.wait("calc is running: 8 tools", timeout=SLOW)


def test_mcp_names_the_projects_servers_waiting_for_trust(fake_glm, tmp_path: Path) -> None:
    project = tmp_path / "untrusted"
    (project / ".git").mkdir(parents=True)
    (project / ".mcp.json").write_text(json.dumps({"mcpServers": {"pcalc": {"command": sys.executable, "args": [str(CALC)]}}}))
    with sessions(fake_glm, project) as start:
        term, _, _ = start([])
        term.send("/mcp\r")
        shown = lambda screen: "glmcode trust" in screen.split("○ ", 1)[-1].replace("\n", " ") and "○ " in screen
        screen = term.wait(shown).split("○ ", 1)[1].replace("\n", " ")
    assert "the MCP server pcalc" in screen and "not started until you run" in screen


def _gated(tmp_path: Path) -> Path:
    """The calc server, made to start only once the returned file exists."""
    gate, gated = tmp_path / "open", tmp_path / "gated.py"
    gated.write_text(
        "import pathlib, runpy, sys, time\n"
        f"while not pathlib.Path({str(gate)!r}).exists():\n    time.sleep(0.02)\n"
        f"sys.argv = [{str(CALC)!r}]\nrunpy.run_path({str(CALC)!r}, run_name='__main__')\n"
    )
    config = Path(os.environ["XDG_CONFIG_HOME"]) / "glmcode" / "config.toml"
    config.write_text(config.read_text().replace(json.dumps(str(CALC)), json.dumps(str(gated))))
    return gate


def test_a_prompt_typed_before_its_server_is_ready_waits_for_it(session, tmp_path: Path) -> None:
    gate = _gated(tmp_path)
    term, fake, _ = session([{"content": "Reviewed."}])
    term.wait("(shift-tab)")
    term.send("/mcp__calc__review src/app.py\r")
    term.wait("Waiting for MCP server calc to start…")
    gate.touch()
    term.wait("Reviewed.", timeout=SLOW)
    assert fake.requests[0].body["messages"][-1]["content"] == "Please review src/app.py carefully."


def test_a_resource_typed_before_its_server_is_ready_waits_for_it(session, tmp_path: Path) -> None:
    gate = _gated(tmp_path)
    term, fake, _ = session([{"content": "Noted."}])
    term.wait("(shift-tab)")
    term.send("what is in @calc:notes://today ?\r")
    term.wait("Waiting for MCP server calc to start…")
    gate.touch()
    term.wait("Noted.", timeout=SLOW)
    assert '<attached resource="calc:notes://today">\nbuy milk\n</attached>' in fake.requests[0].body["messages"][-1]["content"]


def test_mcp_config_gives_the_session_servers_for_this_run(fake_glm, tmp_path: Path) -> None:
    project = tmp_path / "flagged"
    (project / ".git").mkdir(parents=True)
    (project / "servers.json").write_text(json.dumps(
        {"mcpServers": {"fcalc": {"command": sys.executable, "args": [str(CALC)], "startup_timeout_s": SLOW}}}))
    call = {"tool_calls": [{"name": "mcp__fcalc__add", "arguments": {"a": 4, "b": 5}, "id": "c1"}]}
    with sessions(fake_glm, project) as start:
        # A relative file, and a first prompt after it: the file is the option's value, not a prompt.
        term, fake, _ = start([call, {"content": "It is 9."}],
                              ["--mcp-config", "servers.json", "--full-auto", "add 4 and 5"])
        term.wait("It is 9.", timeout=SLOW)
        _prompt_back(term)
        term.send("/mcp\r")
        screen = term.wait("● fcalc  ready")
    assert fake.requests[0].body["messages"][-1]["content"] == "add 4 and 5"
    assert fake.requests[1].body["messages"][-1]["content"] == "9"
    assert not (project / ".glmcode" / "config.toml").exists()  # for this run only: nothing saved
    assert "servers.json" in screen
