"""Checkpoints: the shadow repository, undo and rewind, with real files, real git and real tools."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from glmcode.agent.checkpoints import CheckpointError, FileRestore, Limits, ShadowRepo
from glmcode.agent.drive import drive
from glmcode.agent.rewind import (
    CheckpointRecorder,
    rewind_conversation,
    rewind_points,
    restore_files,
    undo_plan,
)
from glmcode.agent.sessions_store import replay
from glmcode.agent.setup import settle_checkpoints


def _tree(root: Path) -> dict[str, object]:
    """Every file below `root` outside .git: bytes, exec bit, or a symlink's target."""
    out: dict[str, object] = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in files + [d for d in dirs if os.path.islink(os.path.join(folder, d))]:
            path = Path(folder, name)
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                out[rel] = ("link", os.readlink(path))
            else:
                out[rel] = (path.read_bytes(), bool(path.stat().st_mode & 0o100))
    return out


def _repo(workspace: Path, home: Path, session: str = "s1", **limits: int) -> ShadowRepo:
    return ShadowRepo(workspace, home / "shadow", session_id=session, limits=Limits(**limits))


def _user_git_state(repo: Path) -> tuple[bytes, str, str]:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True).stdout

    return (repo / ".git" / "index").read_bytes(), git("status", "--porcelain"), git("stash", "list")


def test_undo_puts_back_edits_and_what_shell_commands_made(git_repo: Path, tmp_path: Path) -> None:
    (git_repo / "src").mkdir()
    (git_repo / "src" / "a.py").write_bytes(b"one\r\ntwo\r\n")
    (git_repo / "run.sh").write_bytes(b"#!/bin/sh\necho hi\n")
    (git_repo / "run.sh").chmod(0o755)
    (git_repo / "gone.txt").write_text("will be deleted\n")
    os.symlink("src/a.py", git_repo / "link")
    (git_repo / ".gitattributes").write_text("* text=auto eol=crlf\n*.py filter=nonexistent\n")
    subprocess.run(["git", "add", "-A"], cwd=git_repo, check=True)
    subprocess.run(["git", "commit", "-qm", "start"], cwd=git_repo, check=True)
    (git_repo / "dirty.txt").write_text("uncommitted\n")
    before = _tree(git_repo)
    user_git = _user_git_state(git_repo)

    repo = _repo(git_repo, tmp_path)
    snap = repo.snapshot("before the run")

    (git_repo / "src" / "a.py").write_bytes(b"changed\n")
    (git_repo / "run.sh").chmod(0o644)
    (git_repo / "gone.txt").unlink()
    (git_repo / "link").unlink()
    (git_repo / "link").write_text("now a file\n")
    (git_repo / "new" / "deep").mkdir(parents=True)
    (git_repo / "new" / "deep" / "made.txt").write_text("by a shell command\n")

    changes = repo.changes(snap.tree)
    assert sorted((c.path, c.action) for c in changes) == [
        ("gone.txt", "recreate"), ("link", "restore"), ("new/deep/made.txt", "delete"),
        ("run.sh", "restore"), ("src/a.py", "restore"),
    ]
    repo.restore(snap.tree, changes)
    assert _tree(git_repo) == before
    assert not (git_repo / "new").exists()
    assert _user_git_state(git_repo) == user_git
    assert repo.changes(snap.tree) == []


def test_git_variables_of_the_environment_do_not_reach_the_user_repository(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Started from a git hook, glmcode inherits variables that point at the user's repository;
    the shadow repository's git runs without them (GitPython alone could only add variables)."""
    (git_repo / "a.txt").write_text("one\n")
    subprocess.run(["git", "add", "a.txt"], cwd=git_repo, check=True)
    subprocess.run(["git", "commit", "-qm", "start"], cwd=git_repo, check=True)
    (git_repo / "b.txt").write_text("uncommitted\n")
    user_git = _user_git_state(git_repo)
    objects = sorted(p.name for p in (git_repo / ".git" / "objects").iterdir())
    monkeypatch.setenv("GIT_INDEX_FILE", str(git_repo / ".git" / "index"))
    monkeypatch.setenv("GIT_OBJECT_DIRECTORY", str(git_repo / ".git" / "objects"))
    monkeypatch.setenv("GIT_CONFIG_PARAMETERS", "'core.autocrlf'='true'")
    repo = _repo(git_repo, tmp_path)
    snap = repo.snapshot("from a hook")
    (git_repo / "a.txt").write_text("two\n")
    repo.restore(snap.tree, repo.changes(snap.tree))
    monkeypatch.delenv("GIT_INDEX_FILE")
    monkeypatch.delenv("GIT_OBJECT_DIRECTORY")
    monkeypatch.delenv("GIT_CONFIG_PARAMETERS")
    assert (git_repo / "a.txt").read_text() == "one\n"
    assert _user_git_state(git_repo) == user_git
    assert sorted(p.name for p in (git_repo / ".git" / "objects").iterdir()) == objects


def test_ignored_and_large_files_are_left_alone(git_repo: Path, tmp_path: Path) -> None:
    (git_repo / ".gitignore").write_text("build/\n*.log\n")
    (git_repo / "build").mkdir()
    (git_repo / "build" / "out.bin").write_bytes(b"old build")
    (git_repo / "big.dat").write_bytes(b"x" * 5000)
    (git_repo / "small.txt").write_text("small\n")
    repo = _repo(git_repo, tmp_path, max_file_bytes=1000)
    snap = repo.snapshot("s")
    assert snap.skipped == ("big.dat",)
    (git_repo / "build" / "out.bin").write_bytes(b"new build")
    (git_repo / "app.log").write_text("log\n")
    (git_repo / "small.txt").write_text("edited\n")
    (git_repo / "big.dat").write_bytes(b"y" * 6000)
    assert repo.changes(snap.tree) == [FileRestore("small.txt", "restore")]
    repo.restore(snap.tree, repo.changes(snap.tree))
    assert (git_repo / "small.txt").read_text() == "small\n"
    assert (git_repo / "build" / "out.bin").read_bytes() == b"new build"
    assert (git_repo / "big.dat").read_bytes() == b"y" * 6000


def test_an_unchanged_tree_writes_nothing_new(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    for n in range(300):
        (work / f"f{n}.txt").write_text(f"file {n}\n" * 20)
    repo = _repo(work, tmp_path)
    first = repo.snapshot("one")
    objects = sorted(p.name for p in (tmp_path / "shadow" / "objects").rglob("*") if p.is_file())
    second = repo.snapshot("two")
    after = sorted(p.name for p in (tmp_path / "shadow" / "objects").rglob("*") if p.is_file())
    assert second.tree == first.tree
    assert len(after) == len(objects) + 1  # only the new commit


def test_a_new_session_starts_from_the_last_index(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "a.txt").write_text("a\n")
    first = _repo(work, tmp_path, "s1").snapshot("one")
    other = _repo(work, tmp_path, "s2")
    assert other.snapshot("two").tree == first.tree
    assert (tmp_path / "shadow" / "glmcode-index" / "s2").exists()


def test_too_many_files_for_a_first_snapshot_is_refused(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    for n in range(30):
        (work / f"f{n}").write_text("x")
    with pytest.raises(CheckpointError, match="too many to checkpoint"):
        _repo(work, tmp_path, max_files=20).snapshot("s")


# -- with the agent ---------------------------------------------------------------------------


def _workspace(fake, cwd: Path):
    from glmcode.agent.setup import open_workspace
    from glmcode.config.layers import load_settings

    env = {**os.environ, "ZAI_API_KEY": "k", "GLMCODE_BASE_URL": fake.base_url}
    settings = load_settings(cwd, env, {"permission_mode": "full-auto"})
    return open_workspace(settings, cwd, approver=None, checkpoints=True, env=env)


def _edit(path: str, old: str, new: str) -> dict:
    return {"name": "edit_file", "arguments": {"path": path, "old_string": old, "new_string": new}}


def _shell(command: str) -> dict:
    return {"name": "run_shell", "arguments": {"command": command}}


def test_undo_and_rewind_after_runs_of_the_agent(fake_glm, git_repo: Path) -> None:
    (git_repo / "a.py").write_text("A = 1\n")
    (git_repo / "b.py").write_text("B = 1\n")
    start = _tree(git_repo)
    fake = fake_glm([
        {"tool_calls": [_edit("a.py", "A = 1", "A = 2"), _edit("b.py", "B = 1", "B = 2")]},
        {"tool_calls": [_shell("echo made > c.txt && rm b.py")]},
        {"content": "first done"},
        {"content": "just talking"},
        {"tool_calls": [_edit("a.py", "A = 2", "A = 3")]},
        {"content": "third done"},
    ])
    ws = _workspace(fake, git_repo)
    for prompt in ("change things", "what did you do?", "one more"):
        drive(ws.agent.run(prompt), lambda e: None)
    settle_checkpoints(ws)  # the snapshot of the last run's end is taken on a thread
    assert (git_repo / "a.py").read_text() == "A = 3\n"
    recorder = ws.agent.before_changes
    assert isinstance(recorder, CheckpointRecorder)
    repo = recorder.repo

    state = replay(ws.session.path)
    assert [c.prompt for c in state.checkpoints] == ["change things", "one more"]
    points = rewind_points(state, ws.agent.messages)
    assert [(p.prompt, p.keep, p.checkpoint.prompt if p.checkpoint else None) for p in points] == [
        ("change things", 1, "change things"),
        ("what did you do?", 7 + 1, "one more"),
        ("one more", 10, "one more"),
    ]

    plan = undo_plan(repo, state)
    assert plan is not None and plan.checkpoint.prompt == "one more"
    assert plan.lines() == ["  restored  a.py"]
    restore_files(repo, plan, state, ws.session)
    assert (git_repo / "a.py").read_text() == "A = 2\n"

    state = replay(ws.session.path)
    plan = undo_plan(repo, state)
    assert plan is not None and plan.checkpoint.prompt == "change things"
    assert sorted(plan.lines()) == ["  deleted   c.txt", "  recreated b.py", "  restored  a.py"]
    assert "Read files again" in plan.note_for_model("undid the last changes")
    restore_files(repo, plan, state, ws.session)
    assert _tree(git_repo) == start
    assert undo_plan(repo, replay(ws.session.path)) is None

    removed = rewind_conversation(ws.agent, ws.session, points[1].keep)
    assert removed == len(state.messages) - 8
    assert ws.agent.messages[-1]["content"] == "first done"
    ws.session.close()
    assert replay(ws.session.path).messages == ws.agent.messages


def test_a_run_without_changes_takes_no_snapshot(fake_glm, tmp_path: Path) -> None:
    fake = fake_glm([{"tool_calls": [{"name": "read_file", "arguments": {"path": "x.txt"}}]}, {"content": "ok"}])
    (tmp_path / "x.txt").write_text("x\n")
    ws = _workspace(fake, tmp_path)
    drive(ws.agent.run("look"), lambda e: None)
    ws.session.close()
    assert replay(ws.session.path).checkpoints == []


def test_a_file_that_became_a_folder_comes_back(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / ".gitignore").write_text("*.log\n")
    (work / "x").write_text("was a file\n")
    repo = _repo(work, tmp_path)
    snap = repo.snapshot("s")
    (work / "x").unlink()
    (work / "x" / "sub").mkdir(parents=True)
    (work / "x" / "sub" / "new.txt").write_text("new\n")
    repo.restore(snap.tree, repo.changes(snap.tree))
    assert (work / "x").read_text() == "was a file\n"

    (work / "x").unlink()
    (work / "x").mkdir()
    (work / "x" / "keep.log").write_text("ignored, so unknown to the snapshot\n")
    with pytest.raises(CheckpointError, match="x is a folder now"):
        repo.restore(snap.tree, repo.changes(snap.tree))
    assert (work / "x" / "keep.log").exists()


def test_undo_skips_a_run_that_changed_nothing(fake_glm, git_repo: Path) -> None:
    (git_repo / "calc.py").write_text("X = 1\n")
    fake = fake_glm([
        {"tool_calls": [_edit("calc.py", "X = 1", "X = 2")]},
        {"content": "fixed"},
        {"tool_calls": [_shell("cat calc.py")]},
        {"content": "ran it"},
    ])
    ws = _workspace(fake, git_repo)
    for prompt in ("fix it", "now run it"):
        drive(ws.agent.run(prompt), lambda e: None)
    settle_checkpoints(ws)
    repo = ws.agent.before_changes.repo
    state = replay(ws.session.path)
    assert [c.prompt for c in state.checkpoints] == ["fix it", "now run it"]
    plan = undo_plan(repo, state)
    assert plan is not None and plan.checkpoint.prompt == "fix it" and not plan.to_now
    assert plan.lines() == ["  restored  calc.py"]
    restore_files(repo, plan, state, ws.session)
    assert (git_repo / "calc.py").read_text() == "X = 1\n"
    assert undo_plan(repo, replay(ws.session.path)) is None


def test_undo_puts_back_only_what_the_run_changed(fake_glm, git_repo: Path) -> None:
    (git_repo / "a.py").write_text("A = 1\n")
    (git_repo / "b.py").write_text("B = 1\n")
    fake = fake_glm([
        {"tool_calls": [_edit("a.py", "A = 1", "A = 2"), _shell("echo made > made.txt && echo log > log.txt")]},
        {"content": "done"},
    ])
    ws = _workspace(fake, git_repo)
    drive(ws.agent.run("change a, make two files"), lambda e: None)
    settle_checkpoints(ws)
    records = [json.loads(line) for line in ws.session.path.read_text().splitlines()]
    [before] = [r for r in records if r["type"] == "checkpoint"]
    [after] = [r for r in records if r["type"] == "checkpoint_after"]
    assert after["before"] == before["commit"] and after["tree"] != before["tree"]

    (git_repo / "b.py").write_text("B = 'by hand'\n")  # a file the run never touched
    (git_repo / "other.txt").write_text("from another session\n")
    (git_repo / "made.txt").write_text("edited by hand since\n")
    repo = ws.agent.before_changes.repo
    state = replay(ws.session.path)
    plan = undo_plan(repo, state)
    assert plan is not None
    assert plan.lines() == [
        "  restored  a.py",
        "  deleted   log.txt",
        "  kept      made.txt (changed since; left as it is)",
    ]
    assert "Left as they are, changed since: made.txt." in plan.note_for_model("undid")
    restore_files(repo, plan, state, ws.session)
    assert (git_repo / "a.py").read_text() == "A = 1\n"
    assert not (git_repo / "log.txt").exists()
    assert (git_repo / "b.py").read_text() == "B = 'by hand'\n"
    assert (git_repo / "other.txt").read_text() == "from another session\n"
    assert (git_repo / "made.txt").read_text() == "edited by hand since\n"


def test_a_run_with_no_end_snapshot_is_compared_with_the_files_now(fake_glm, git_repo: Path) -> None:
    (git_repo / "a.py").write_text("A = 1\n")
    fake = fake_glm([{"tool_calls": [_edit("a.py", "A = 1", "A = 2")]}, {"content": "done"}])
    ws = _workspace(fake, git_repo)
    ws.agent.after_changes = None  # as when glmcode died before the run ended
    drive(ws.agent.run("change a"), lambda e: None)
    (git_repo / "later.txt").write_text("made after the run\n")
    plan = undo_plan(ws.agent.before_changes.repo, replay(ws.session.path))
    assert plan is not None and plan.to_now
    assert sorted(plan.lines()) == ["  deleted   later.txt", "  restored  a.py"]
