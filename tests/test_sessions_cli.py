"""`glmcode sessions` and `glmcode resume` before any session is chosen."""

from __future__ import annotations

from pathlib import Path

import pytest

from glmcode.ui.sessions_cli import NO_SESSIONS, resume_command, sessions_command


@pytest.fixture(autouse=True)
def _state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def test_a_folder_that_is_not_there(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nowhere"
    assert sessions_command(str(missing)) == 2
    assert capsys.readouterr().err == f"glmcode: {missing} is not a folder\n"
    assert resume_command(None, {}, cd=str(missing)) == 2
    assert capsys.readouterr().err == f"glmcode: {missing} is not a folder\n"


def test_a_project_without_sessions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = tmp_path / "project"
    project.mkdir()
    assert sessions_command(str(project)) == 0
    assert capsys.readouterr().err == NO_SESSIONS
    assert resume_command(None, {}, cd=str(project), latest=True) == 1
    assert capsys.readouterr().err == NO_SESSIONS
