"""Custom agents: files with front matter, user and project folders, trust, the task schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_subagents import collect, is_sub, parent_turns, task, workspace

from glmcode.config.trust import trust_project
from glmcode.events import ToolCallFinished
from glmcode.subagents.catalog import load_catalog
from glmcode.subagents.definitions import DefinitionError, parse_definition

KINDS = {"read_file": "read", "write_file": "edit", "run_shell": "shell", "grep": "read", "glob": "read", "task": "meta"}

FINDER = """---
description: Finds definitions, cheaply.
tools: [grep, glob]
model: glm-4.5-air
max_turns: 5
---
You find where things are defined. Report path:line for each.
"""


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.md"
    path.write_text(text)
    return path


def test_a_definition_reads_its_front_matter_and_body(tmp_path: Path) -> None:
    agent = parse_definition(FINDER, tmp_path / "finder.md", "user")
    assert (agent.name, agent.model, agent.tools, agent.max_turns) == ("finder", "glm-4.5-air", ("grep", "glob"), 5)
    assert agent.description == "Finds definitions, cheaply."
    assert agent.prompt.startswith("You find where things are defined.")


@pytest.mark.parametrize("text, message", [
    ("no front matter", "must start with front matter"),
    ("---\ndescription: x\n", "no closing '---'"),
    ("---\nprompt: x\n---\nbody", "unknown key 'prompt'"),
    ("---\ntools: grep\n---\nbody", "needs a description"),
    ("---\ndescription: d\n---\n", "no system prompt"),
    ("---\ndescription: d\nmax_turns: many\n---\nbody", "max_turns"),
    ("---\nname: Bad Name\ndescription: d\n---\nbody", "lower-case"),
])
def test_bad_definitions_say_what_to_fix(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(DefinitionError, match=message):
        parse_definition(text, tmp_path / "x.md", "user")


def test_user_and_project_agents_and_what_needs_trust(tmp_path: Path) -> None:
    user, project = tmp_path / "config", tmp_path / "project"
    _write(user / "agents", "finder", FINDER)
    _write(project / ".glmcode" / "agents", "reviewer", "---\ndescription: Reviews.\n---\nReview.\n")
    _write(project / ".glmcode" / "agents", "fixer", "---\ndescription: Fixes.\ntools: read_file, write_file, run_shell\n---\nFix.\n")
    _write(project / ".glmcode" / "agents", "broken", "oops")
    catalog = load_catalog(project, user, KINDS, lambda: False)
    assert list(catalog.agents) == ["explore", "general", "finder", "reviewer"]
    assert catalog.tools_for(catalog.agents["reviewer"]) == ["read_file", "grep", "glob"]
    assert catalog.tools_for(catalog.agents["general"]) == ["read_file", "write_file", "run_shell", "grep", "glob"]
    warnings = " ".join(catalog.warnings)
    assert "project agent fixer may write files or run commands; ignored until you run `glmcode trust`" in warnings
    assert "broken.md is not used: must start with front matter" in warnings
    trusted = load_catalog(project, user, KINDS, lambda: True)
    assert trusted.tools_for(trusted.agents["fixer"]) == ["read_file", "write_file", "run_shell"]


def test_unknown_tools_are_left_out_and_task_is_never_given(tmp_path: Path) -> None:
    _write(tmp_path / "agents", "odd", "---\ndescription: Odd.\ntools: grep, task, fly\n---\nBe odd.\n")
    catalog = load_catalog(tmp_path / "p", tmp_path, KINDS, lambda: False)
    assert catalog.tools_for(catalog.agents["odd"]) == ["grep"]
    assert "no tool named task, fly" in " ".join(catalog.warnings)


def test_a_custom_agent_runs_with_its_own_model_and_tools(fake_glm, tmp_path: Path) -> None:
    cwd = tmp_path / "project"
    _write(cwd / ".glmcode" / "agents", "finder", FINDER)
    parent = parent_turns(task("t1", "where is main", agent="finder"))

    def model(body: dict[str, Any]) -> dict[str, Any]:
        if body["messages"][0]["content"].startswith("You find where"):
            return {"content": "main is at app.py:3"}
        return parent(body)

    fake = fake_glm([model] * 3)
    ws = workspace(fake, cwd)
    schema = next(t for t in fake_tools(ws) if t["function"]["name"] == "task")["function"]
    assert "- finder: Finds definitions, cheaply." in schema["description"]
    assert schema["parameters"]["properties"]["agent"]["enum"] == ["explore", "general", "finder"]
    events = collect(ws, "find main")
    assert events[-1].result == "reports: main is at app.py:3"
    sub = fake.requests[1].body
    assert sub["model"] == "glm-4.5-air"
    assert [t["function"]["name"] for t in sub["tools"]] == ["grep", "glob"]
    assert "main is at app.py:3" in next(e for e in events if isinstance(e, ToolCallFinished)).output
    assert fake.requests[0].body["model"] == fake.requests[-1].body["model"] == "glm-4.6"


def test_an_untrusted_project_agent_that_writes_is_not_offered_until_trusted(fake_glm, tmp_path: Path) -> None:
    cwd = tmp_path / "project"
    (cwd / ".git").mkdir(parents=True)
    _write(cwd / ".glmcode" / "agents", "fixer", "---\ndescription: Fixes.\ntools: write_file\n---\nFix.\n")
    fake = fake_glm([])
    ws = workspace(fake, cwd)
    assert "fixer" not in ws.subagents.agents
    assert any("project agent fixer" in n.message for n in ws.notices)
    trust_project(cwd, ws.env)
    assert "fixer" in workspace(fake, cwd).subagents.agents


def test_an_unknown_agent_name_is_an_error_the_model_can_read(fake_glm, tmp_path: Path) -> None:
    fake = fake_glm([{"tool_calls": [task("t1", "x", agent="nobody")]}, {"content": "ok"}])
    events = collect(workspace(fake, tmp_path), "go")
    [result] = [e for e in events if isinstance(e, ToolCallFinished)]
    assert result.is_error and "must be one of explore, general" in result.output
    assert not any(is_sub(r.body) for r in fake.requests)


def fake_tools(ws) -> list[dict[str, Any]]:
    return ws.agent.runner.registry.schemas()
