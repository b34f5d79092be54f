"""The sandbox in the interactive session: the status line says where commands run, and a
command the sandbox refused is offered a run outside it (yes or no, nothing more)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sandbox_support import disk_dir, needs_bwrap  # noqa: F401 (a fixture)
from tui_harness import Term

pytestmark = needs_bwrap


@pytest.fixture
def terms() -> Iterator[list[Term]]:
    started: list[Term] = []
    yield started
    for term in started:
        term.close()


def _start(terms: list[Term], fake, project: Path, args: list[str]) -> Term:
    term = Term(args, project, fake.base_url)
    terms.append(term)
    term.wait(lambda _: "(shift-tab)" in term.bottom())
    return term


def test_the_status_line_shows_the_sandbox_and_a_refused_command_can_run_outside_once(
    fake_glm, tmp_path: Path, disk_dir: Path, terms: list[Term]
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    target = disk_dir / "made-outside.txt"
    shell = {"tool_calls": [{"name": "run_shell", "id": "c1", "arguments": {"command": f"echo hi > {target}"}}]}
    fake = fake_glm([shell, {"content": "Written outside."}])
    term = _start(terms, fake, project, ["--full-auto"])
    assert "sandbox workspace-write" in term.bottom()
    term.send("write the file\r")
    screen = " ".join(term.wait("y yes  n no  ›").split())
    assert "run it once outside the sandbox, with your full rights?" in screen
    assert "always" not in screen.split("outside the sandbox, with", 1)[1]
    assert not target.exists()
    term.send("y")
    term.wait("Written outside.")
    assert target.read_text() == "hi\n"
    tool_message = fake.requests[1].body["messages"][-1]
    assert tool_message["role"] == "tool" and "Exit code: 0" in tool_message["content"]


def test_with_the_sandbox_off_the_status_line_says_so(fake_glm, tmp_path: Path, terms: list[Term]) -> None:
    project = tmp_path / "project"
    project.mkdir()
    term = _start(terms, fake_glm([]), project, ["--sandbox", "off"])
    assert "sandbox off" in term.bottom()
