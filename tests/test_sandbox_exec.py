"""The sandbox as a new user meets it: `glmcode exec` against the fake GLM server."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest

from tests.conftest import run_glmcode
from tests.sandbox_support import needs_bwrap

KEY = "sk-test-key-0123456789"


def _env(fake, **extra: str) -> dict[str, str]:
    return {"ZAI_API_KEY": KEY, "GLMCODE_BASE_URL": fake.base_url, **extra}


def _shell(command: str, call_id: str) -> dict:
    return {"tool_calls": [{"name": "run_shell", "id": call_id, "arguments": {"command": command}}]}


def _tool_messages(fake) -> list[str]:
    return [m["content"] for m in fake.requests[-1].body["messages"] if m["role"] == "tool"]


@needs_bwrap
def test_full_auto_leaves_nothing_outside_and_never_reaches_the_listener(fake_glm, tmp_path: Path) -> None:
    before = set(Path("/tmp").glob("outside-*"))
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        listener.setblocking(False)
        port = listener.getsockname()[1]
        fake = fake_glm([
            _shell("touch /tmp/outside-$RANDOM", "c1"),
            _shell(f"echo hello > /dev/tcp/127.0.0.1/{port}", "c2"),
            _shell("echo hi > inside.txt", "c3"),
            {"content": "Done."},
        ])
        proc = run_glmcode(["exec", "--full-auto", "try things"], tmp_path, _env(fake))
        assert proc.returncode == 0, proc.stderr
        with pytest.raises(BlockingIOError):
            listener.accept()
    assert set(Path("/tmp").glob("outside-*")) == before
    assert (tmp_path / "inside.txt").read_text() == "hi\n"
    touched, connected, written = _tool_messages(fake)
    assert "Exit code: 0" in touched and "Exit code: 0" in written
    assert "without network access" in connected


@needs_bwrap
def test_auto_edit_runs_sandboxed_commands_without_asking(fake_glm, tmp_path: Path) -> None:
    fake = fake_glm([_shell("touch made-by-shell", "c1"), {"content": "Made."}])
    proc = run_glmcode(["exec", "make a file"], tmp_path, _env(fake))
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "made-by-shell").exists()
    config = run_glmcode(["config", "--sandbox", "read-only"], tmp_path)
    assert "sandbox:        read-only, no network (bwrap)" in config.stdout


def test_default_mode_does_not_return_a_file_outside_the_workspace(fake_glm, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    secret = tmp_path / "private.txt"
    secret.write_text("the content of a private file\n")
    (ws / "link.txt").symlink_to(secret)
    calls = [{"tool_calls": [{"name": "read_file", "id": f"c{n}", "arguments": {"path": path}}]}
             for n, path in enumerate((str(secret), "../private.txt", "link.txt"))]
    fake = fake_glm([*calls, {"content": "I could not read it."}])
    proc = run_glmcode(["exec", "read it"], ws, _env(fake))
    assert proc.returncode == 0, proc.stderr
    messages = _tool_messages(fake)
    assert len(messages) == 3
    for text in messages:
        assert "Not run" in text and "outside the workspace" in text
        assert "content of a private file" not in text
    assert "content of a private file" not in proc.stdout + proc.stderr


def _path_without_bwrap(folder: Path) -> str:
    folder.mkdir()
    for name in ("bash", "sh", "git", "env", "cat", "ls", "touch"):
        found = shutil.which(name)
        if found:
            (folder / name).symlink_to(found)
    return str(folder)


def test_without_a_sandbox_the_user_is_told_once_and_commands_ask(fake_glm, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    fake = fake_glm([_shell("touch made-by-shell", "c1"), _shell("touch again", "c2"), {"content": "No."}])
    env = _env(fake, PATH=_path_without_bwrap(tmp_path / "bin"))
    proc = run_glmcode(["exec", "make a file"], ws, env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("Commands cannot be sandboxed: bwrap was not found") == 1
    assert not (ws / "made-by-shell").exists() and not (ws / "again").exists()
    assert all("Not run" in text for text in _tool_messages(fake))
    config = run_glmcode(["config"], ws, {"PATH": env["PATH"]})
    assert "sandbox:        none: Commands cannot be sandboxed" in config.stdout
