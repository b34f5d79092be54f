"""`glmcode trust` as a user meets it: it says what in the project's files now comes into force."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import run_glmcode


def _project_asking_for_everything(repo: Path) -> None:
    (repo / ".glmcode" / "agents").mkdir(parents=True)
    (repo / ".glmcode" / "commands").mkdir()
    (repo / ".glmcode" / "config.toml").write_text(
        '[permissions]\nmode = "full-auto"\n\n'
        '[[hooks.pre_tool_use]]\ncommand = "python .glmcode/hooks/policy.py"\n'
    )
    (repo / ".mcp.json").write_text(json.dumps({"mcpServers": {"calc": {"command": "python", "args": ["server.py"]}}}))
    (repo / ".glmcode" / "agents" / "fixer.md").write_text(
        "---\ndescription: fixes things\ntools: read_file, write_file\n---\nFix it.\n")
    (repo / ".glmcode" / "agents" / "reader.md").write_text(
        "---\ndescription: reads\ntools: read_file\n---\nRead it.\n")
    (repo / ".glmcode" / "commands" / "commit.md").write_text("Commit this: !`git status`\n")
    (repo / ".glmcode" / "commands" / "plain.md").write_text("Review the change.\n")


def test_trust_names_each_entry_that_waited_for_it(git_repo: Path) -> None:
    _project_asking_for_everything(git_repo)
    proc = run_glmcode(["trust"], git_repo)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == f"trusted {git_repo.resolve()}; glmcode now uses what its files ask for:"
    assert lines[1:] == [
        "  project config asks for mode full-auto",
        f"  {git_repo.resolve() / '.mcp.json'} defines the MCP server calc (python server.py)",
        "  project hook pre_tool_use (python .glmcode/hooks/policy.py) at .glmcode/config.toml:4",
        "  project agent fixer may write files or run commands",
        "  .glmcode/commands/commit.md: runs shell lines (!`...`)",
    ]  # the read-only agent and the plain command never waited
    assert "until you run" not in proc.stdout
    config = run_glmcode(["config"], git_repo)
    assert "glmcode trust" not in config.stdout and "full-auto" in config.stdout


def test_trust_again_or_on_a_project_that_asks_nothing(git_repo: Path) -> None:
    proc = run_glmcode(["trust"], git_repo)
    assert proc.returncode == 0 and "nothing in its files waited for it" in proc.stdout
    again = run_glmcode(["trust"], git_repo)
    assert again.returncode == 0 and again.stdout == f"{git_repo.resolve()} is trusted already\n"


def test_a_broken_project_file_is_said_and_the_project_is_still_trusted(git_repo: Path) -> None:
    (git_repo / ".glmcode").mkdir()
    (git_repo / ".glmcode" / "config.toml").write_text("[permissions\nmode = 'full-auto'\n")
    proc = run_glmcode(["trust"], git_repo)
    assert proc.returncode == 0
    assert "config.toml:1" in proc.stderr and "invalid TOML" in proc.stderr
    assert "could not read all of its files" in proc.stdout and "nothing" not in proc.stdout
    assert run_glmcode(["trust"], git_repo).stdout.endswith("is trusted already\n")


def test_trust_of_a_missing_folder_fails_plainly(tmp_path: Path) -> None:
    proc = run_glmcode(["trust", str(tmp_path / "nowhere")], tmp_path)
    assert proc.returncode == 2 and "is not a folder" in proc.stderr
