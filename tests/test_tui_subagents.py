"""Sub-agents in the interactive session: one block per task, approvals asked like the parent's,
their tokens in the status line, /agents."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from test_subagents import is_sub, parent_turns, task
from test_tui_session import session  # noqa: F401 (the fixture)

PARENT_USAGE = {"prompt_tokens": 12_000, "completion_tokens": 100}
SUB_USAGE = {"prompt_tokens": 50_000, "completion_tokens": 500}


def test_a_sub_agent_shows_as_one_block_and_its_approvals_reach_the_user(session) -> None:  # noqa: F811
    parent = parent_turns(task("t1", "write the greeting", agent="general"))

    def model(body: dict[str, Any]) -> dict[str, Any]:
        if is_sub(body):
            if not any(m["role"] == "tool" for m in body["messages"]):
                return {"tool_calls": [{"name": "write_file", "arguments": {"path": "hello.txt", "content": "hi\n"}}],
                        "usage": SUB_USAGE}
            return {"content": "Wrote hello.txt with a greeting.", "usage": SUB_USAGE}
        reply = parent(body)
        if "content" in reply:
            reply["content"] = "The sub-agent wrote it."
        return {**reply, "usage": PARENT_USAGE}

    term, fake, project = session([model] * 4)
    term.send("write a greeting\r")
    screen = term.wait("y yes")
    assert "asked by the general sub-agent" in " ".join(screen.split()) and "hello.txt" in screen
    assert not (project / "hello.txt").exists()
    term.send("y")
    screen = term.wait("The sub-agent wrote it.")
    assert (project / "hello.txt").read_text() == "hi\n"
    assert "task general  look into write the greeting  1 tool call" in screen
    assert "⎿ ● write_file  hello.txt" in screen
    assert "→ Wrote hello.txt with a greeting.  · /last shows it all" in screen
    # the sub-agent's 100k tokens count in the totals, not in the parent's context share
    term.wait(lambda _: "124k in" in term.bottom())
    assert "ctx 6%" in term.bottom()
    term.send("/cost\r")
    screen = term.wait("input tokens")
    assert "124,000" in screen and "1,200" in screen


def test_agents_lists_built_in_and_custom_agents(session, tmp_path: Path) -> None:  # noqa: F811
    folder = tmp_path / "project" / ".glmcode" / "agents"
    folder.mkdir(parents=True)
    (folder / "finder.md").write_text("---\ndescription: Finds definitions.\nmodel: glm-4.5-air\ntools: grep\n---\nFind.\n")
    (folder / "fixer.md").write_text("---\ndescription: Fixes.\ntools: write_file\n---\nFix.\n")
    term, _, _ = session([])
    term.send("/agents\r")
    screen = term.wait("docs/agents.md")
    assert "explore" in screen and "general" in screen
    assert "finder" in screen and "Finds definitions." in screen and "model glm-4.5-air; tools: grep" in screen
    assert "project agent fixer may write files or run commands" in screen


def test_ctrl_c_stops_running_sub_agents_at_once_and_the_session_goes_on(session) -> None:  # noqa: F811
    def model(body: dict[str, Any]) -> dict[str, Any]:
        if is_sub(body):
            return {"content": "too late", "first_byte_delay": 60}
        if body["messages"][-1] == {"role": "user", "content": "and now?"}:
            return {"content": "Back at the prompt."}
        return {"tool_calls": [task("t1", "one"), task("t2", "two")]}

    term, fake, _ = session([model] * 6)
    term.send("look at two things\r")
    term.wait("task explore")
    term.send("\x03")
    term.wait("Interrupted")
    term.wait(lambda _: "ask (shift-tab)" in term.bottom(), timeout=5)
    term.send("and now?\r")
    term.wait("Back at the prompt.")
    sent = fake.requests[-1].body["messages"]
    tools = [m for m in sent if m["role"] == "tool"]
    assert [m["tool_call_id"] for m in tools] == ["t1", "t2"]
    assert all("interrupted" in m["content"] for m in tools)
