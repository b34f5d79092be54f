"""Custom commands, hooks and notifications in the interactive session: the real `glmcode` in a
pseudo-terminal against the fake GLM server."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tui_harness import Term, sessions


@pytest.fixture
def session(fake_glm, tmp_path: Path) -> Iterator[Callable[..., tuple[Term, object, Path]]]:
    project = tmp_path / "project"
    (project / ".git").mkdir(parents=True)

    with sessions(fake_glm, project) as start:
        yield start


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _plain(raw: str) -> str:
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", raw)


def _user_config(home: Path, text: str) -> None:
    _write(home / ".config" / "glmcode" / "config.toml", text)


def test_custom_commands_complete_with_their_description_and_run(session, tmp_path: Path) -> None:
    project = tmp_path / "project"
    _write(project / ".glmcode" / "commands" / "hello.md", "---\ndescription: Greet someone\nargument-hint: NAME\n---\nSay hello to $ARGUMENTS in French.\n")
    _write(project / ".glmcode" / "commands" / "frontend" / "lint.md", "Lint the frontend.")
    term, fake, _ = session([{"content": "Bonjour Bob !"}])
    term.send("/hel")
    screen = term.wait("Greet someone (project)")
    assert "/help" in screen and "/hello" in screen
    term.send("lo Bob\r")
    term.wait("Bonjour Bob !")
    assert fake.requests[0].body["messages"][-1] == {"role": "user", "content": "Say hello to Bob in French."}
    term.send("/front")
    term.wait("/frontend:lint")


def test_help_lists_custom_commands_and_which_one_wins(session, tmp_path: Path, isolated_home: Path) -> None:
    project = tmp_path / "project"
    _write(project / ".glmcode" / "commands" / "review.md", "---\ndescription: Team review\n---\nReview it.")
    _write(isolated_home / ".config" / "glmcode" / "commands" / "review.md", "My review.")
    _write(project / ".glmcode" / "commands" / "model.md", "Taken.")
    term, _, _ = session([])
    term.send("/help\r")
    term.wait("Custom commands")
    term.wait(lambda _: "built into glmcode" in _plain(term.raw))
    shown = " ".join(_plain(term.raw).split())
    assert "/review Team review (project)" in shown
    assert "replaces the user command in ~/.config/glmcode/commands/review.md" in shown
    assert "model.md: not used, /model is built into glmcode" in shown
    term.send("/reveiw\r")
    term.wait("Did you mean /review?")


def test_hooks_command_lists_the_hooks_and_an_approval_rings_and_runs_the_notification_hook(
    session, tmp_path: Path, isolated_home: Path
) -> None:
    seen = tmp_path / "notified.json"
    script = tmp_path / "notify.py"
    script.write_text(f"import sys\nopen({str(seen)!r}, 'w').write(sys.stdin.read())\n")
    command = f'"{sys.executable}" "{script}"'
    _user_config(
        isolated_home,
        f'[[hooks.notification]]\ncommand = {json.dumps(command)}\n\n'
        '[[hooks.post_tool_use]]\nmatcher = "edit_file|write_file"\ncommand = "true"\ntimeout_s = 5\n',
    )
    shell = {"tool_calls": [{"name": "run_shell", "arguments": {"command": "touch made.txt"}}]}
    term, _, project = session([shell, {"content": "Made it."}])
    term.send("/hooks\r")
    screen = term.wait("config.toml:1")  # the notification hook, listed last as it runs last
    assert "post_tool_use  edit_file|write_file  timeout 5s · user: ~/.config/glmcode/config.toml:4" in screen
    assert "notification  timeout 60s" in screen
    before = term.raw.count("\a")
    term.send("make a file\r")
    term.wait("y yes")
    assert term.raw.count("\a") > before, "an approval that waits rings the bell"
    event = json.loads(seen.read_text())
    assert event["event"] == "notification" and event["tool_name"] == "run_shell"
    assert "approval" in event["message"]
    term.send("y")
    term.wait("Made it.")
    assert (project / "made.txt").exists()


def test_osc9_notifies_and_off_is_silent(session, isolated_home: Path) -> None:
    shell = {"tool_calls": [{"name": "run_shell", "arguments": {"command": "touch made.txt"}}]}
    _user_config(isolated_home, 'notify = "osc9"\n')
    term, _, _ = session([shell, {"content": "Made it."}])
    term.send("make a file\r")
    term.wait("y yes")
    assert "\x1b]9;glmcode needs your approval for run_shell\x07" in term.raw
    term.send("n")
    term.wait("Why not?")
    term.send("\r")
    term.wait("Made it.")
    _user_config(isolated_home, 'notify = "off"\n')
    term, _, _ = session([shell, {"content": "Made it."}])
    term.send("make a file\r")
    term.wait("y yes")
    assert "\a" not in term.raw and "\x1b]9;" not in term.raw


def test_untrusted_project_hooks_and_shell_commands_are_named_at_start(session, tmp_path: Path) -> None:
    project = tmp_path / "project"
    _write(project / ".glmcode" / "config.toml", '[[hooks.stop]]\ncommand = "touch stopped"\n')
    _write(project / ".glmcode" / "commands" / "st.md", "Status: !`git status`")
    term, _, _ = session([])
    term.wait(lambda screen: "st.md: runs shell lines (!`...`), so /st is ignored until you run `glmcode trust`" in " ".join(screen.split()))
    term.wait(lambda screen: "project hook stop (touch stopped) at .glmcode/config.toml:1 is ignored until you run `glmcode trust`" in " ".join(screen.split()))
    term.send("/hooks\r")
    term.wait("No hooks are in force")
