"""Checkpoints in a git repository: the shadow index starts from the user's, real git throughout.

What tests/test_checkpoints.py proves of checkpoints in general is proved here again for what
only a git repository has: an index to start from (split, sparse, mid-merge, marked entries),
objects to borrow, uncommitted and untracked work before the first turn, a workspace below
the repository's top, and many more files than a folder may hold.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import pytest

from glmcode.agent import checkpoint_base
from glmcode.agent.checkpoints import CheckpointError, FileRestore, Limits, ShadowRepo
from glmcode.agent.drive import drive
from glmcode.agent.rewind import CheckpointRecorder, restore_files, undo_plan
from glmcode.agent.sessions_store import replay
from glmcode.agent.setup import settle_checkpoints


def git(repo: Path, *args: str, stdin: bytes | None = None) -> str:
    return subprocess.run(["git", *args], cwd=repo, input=stdin, capture_output=True, check=True).stdout.decode()


def commit_all(repo: Path, message: str = "start") -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", message)


def dot_git(repo: Path) -> dict[str, str]:
    """Every file of the user's .git, by its content: what glmcode must never change."""
    out = {}
    for folder, _, files in os.walk(repo / ".git"):
        for name in files:
            path = Path(folder, name)
            out[path.relative_to(repo).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def work_files(root: Path) -> dict[str, bytes]:
    out = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in files:
            path = Path(folder, name)
            out[path.relative_to(root).as_posix()] = path.read_bytes()
    return out


def shadow(workspace: Path, home: Path, session: str = "s1", **limits: int) -> ShadowRepo:
    return ShadowRepo(workspace, home / "shadow", session_id=session, limits=Limits(**limits))


def shadow_objects(home: Path) -> int:
    """How many objects the shadow repository stored itself (not borrowed)."""
    folder = home / "shadow" / "objects"
    return sum(1 for p in folder.glob("??/*") if p.is_file())


def many_files(repo: Path, count: int) -> None:
    for n in range(count):
        folder = repo / f"pkg{n // 100}"
        folder.mkdir(exist_ok=True)
        (folder / f"f{n}.txt").write_text(f"file {n}\n")


def test_a_first_snapshot_reads_only_what_differs_from_the_users_index(git_repo: Path, tmp_path: Path) -> None:
    """More files than a folder may hold, and the snapshot stores only the three that changed:
    every other file's content is the user's own object, borrowed."""
    many_files(git_repo, 600)
    commit_all(git_repo)
    (git_repo / "pkg0" / "f0.txt").write_text("changed\n")
    (git_repo / "new.txt").write_text("untracked\n")
    (git_repo / "pkg5" / "f500.txt").unlink()
    user_git = dot_git(git_repo)

    repo = shadow(git_repo, tmp_path, max_files=100)
    snap = repo.snapshot("before")
    assert repo.from_git and repo.notes == []
    # two blobs (the changed file, the new one), the trees on their paths, the commit
    assert shadow_objects(tmp_path) <= 8
    listed = git(git_repo, "--git-dir", str(tmp_path / "shadow"), "ls-tree", "-r", "--name-only", snap.tree)
    assert len(listed.split()) == 600 and "new.txt" in listed and "pkg5/f500.txt" not in listed

    (git_repo / "pkg3" / "f300.txt").write_text("edited by the run\n")
    (git_repo / "pkg0" / "f0.txt").unlink()
    changes = repo.changes(snap.tree)
    assert sorted(changes, key=lambda c: c.path) == [
        FileRestore("pkg0/f0.txt", "recreate"), FileRestore("pkg3/f300.txt", "restore")]
    repo.restore(snap.tree, changes)
    assert (git_repo / "pkg0" / "f0.txt").read_text() == "changed\n"
    assert (git_repo / "pkg3" / "f300.txt").read_text() == "file 300\n"
    assert dot_git(git_repo) == user_git


def test_uncommitted_staged_and_untracked_work_before_the_first_turn_comes_back(git_repo: Path, tmp_path: Path) -> None:
    (git_repo / "latin1.txt").write_bytes("café résumé\n".encode("latin-1"))
    (git_repo / "blob.bin").write_bytes(bytes(range(256)) * 8)
    (git_repo / "staged.txt").write_text("committed\n")
    (git_repo / "gone.txt").write_text("committed, deleted before the turn\n")
    commit_all(git_repo)
    (git_repo / "latin1.txt").write_bytes("naïve, not committed\r\n".encode("latin-1"))
    (git_repo / "staged.txt").write_text("staged\n")
    git(git_repo, "add", "staged.txt")
    (git_repo / "staged.txt").write_text("staged, then changed again\n")
    (git_repo / "gone.txt").unlink()
    (git_repo / "untracked.bin").write_bytes(b"\x00\xff\xfe" * 100)
    git(git_repo, "stash", "list")
    before = work_files(git_repo)
    user_git = dot_git(git_repo)
    status = git(git_repo, "status", "--porcelain")

    repo = shadow(git_repo, tmp_path)
    snap = repo.snapshot("before")
    for name in ("latin1.txt", "blob.bin", "staged.txt", "untracked.bin"):
        (git_repo / name).write_bytes(b"overwritten by the run\n")
    (git_repo / "gone.txt").write_text("made again by the run\n")
    (git_repo / "made" / "deep").mkdir(parents=True)
    (git_repo / "made" / "deep" / "x.txt").write_text("new\n")
    repo.restore(snap.tree, repo.changes(snap.tree))
    assert work_files(git_repo) == before
    assert not (git_repo / "made").exists()
    assert dot_git(git_repo) == user_git
    assert git(git_repo, "status", "--porcelain") == status


def test_a_workspace_below_the_top_is_snapshotted_as_its_own_tree(git_repo: Path, tmp_path: Path) -> None:
    (git_repo / "app" / "src").mkdir(parents=True)
    (git_repo / "app" / "src" / "a.py").write_text("A = 1\n")
    (git_repo / "other.txt").write_text("outside the workspace\n")
    (git_repo / ".gitignore").write_text("*.log\n")
    commit_all(git_repo)
    workspace = git_repo / "app"
    repo = shadow(workspace, tmp_path)
    snap = repo.snapshot("before")
    listed = git(git_repo, "--git-dir", str(tmp_path / "shadow"), "ls-tree", "-r", "--name-only", snap.tree)
    assert listed.split() == ["src/a.py"]

    (workspace / "src" / "a.py").write_text("A = 2\n")
    (workspace / "b.py").write_text("new\n")
    (workspace / "debug.log").write_text("ignored by the top's .gitignore\n")
    (git_repo / "other.txt").write_text("changed outside\n")
    changes = repo.changes(snap.tree)
    assert sorted((c.path, c.action) for c in changes) == [("b.py", "delete"), ("src/a.py", "restore")]
    repo.restore(snap.tree, changes)
    assert (workspace / "src" / "a.py").read_text() == "A = 1\n" and not (workspace / "b.py").exists()
    assert (git_repo / "other.txt").read_text() == "changed outside\n"

    empty = git_repo / "empty"
    empty.mkdir()
    nothing = shadow(empty, tmp_path, "s2").snapshot("nothing here yet")
    (empty / "first.txt").write_text("made by the run\n")
    fresh = shadow(empty, tmp_path, "s2")
    assert fresh.changes(nothing.tree) == [FileRestore("first.txt", "delete")]


def test_a_split_index_and_a_merge_in_progress(git_repo: Path, tmp_path: Path) -> None:
    (git_repo / "c.txt").write_text("base\n")
    (git_repo / "keep.txt").write_text("keep\n")
    commit_all(git_repo)
    git(git_repo, "checkout", "-qb", "other")
    (git_repo / "c.txt").write_text("theirs\n")
    commit_all(git_repo, "theirs")
    git(git_repo, "checkout", "-q", "main")
    (git_repo / "c.txt").write_text("ours\n")
    commit_all(git_repo, "ours")
    subprocess.run(["git", "merge", "-q", "other"], cwd=git_repo, capture_output=True)
    assert "UU c.txt" in git(git_repo, "status", "--porcelain")
    git(git_repo, "update-index", "--split-index")
    assert list((git_repo / ".git").glob("sharedindex.*"))
    conflicted = (git_repo / "c.txt").read_bytes()
    user_git = dot_git(git_repo)

    repo = shadow(git_repo, tmp_path)
    snap = repo.snapshot("before")
    assert repo.from_git and repo.notes == []
    (git_repo / "c.txt").write_text("resolved by the run\n")
    (git_repo / "keep.txt").unlink()
    repo.restore(snap.tree, repo.changes(snap.tree))
    assert (git_repo / "c.txt").read_bytes() == conflicted
    assert (git_repo / "keep.txt").read_text() == "keep\n"
    assert dot_git(git_repo) == user_git
    assert not list((tmp_path / "shadow").glob("sharedindex.*"))


def test_sparse_checkout_and_assume_unchanged_entries_are_looked_at(git_repo: Path, tmp_path: Path) -> None:
    """The user's git skips these files; a snapshot must not, or the run's changes to them
    would be missed."""
    for name in ("in/a.txt", "out/b.txt", "quiet.txt"):
        (git_repo / name).parent.mkdir(exist_ok=True)
        (git_repo / name).write_text(f"{name}\n")
    commit_all(git_repo)
    git(git_repo, "sparse-checkout", "set", "in")
    assert not (git_repo / "out").exists()
    git(git_repo, "update-index", "--assume-unchanged", "quiet.txt")
    user_git = dot_git(git_repo)

    repo = shadow(git_repo, tmp_path)
    snap = repo.snapshot("before")
    (git_repo / "out").mkdir()
    (git_repo / "out" / "b.txt").write_text("written where the sparse checkout has nothing\n")
    (git_repo / "quiet.txt").write_text("changed behind git's back\n")
    changes = repo.changes(snap.tree)
    assert sorted((c.path, c.action) for c in changes) == [("out/b.txt", "delete"), ("quiet.txt", "restore")]
    repo.restore(snap.tree, changes)
    assert not (git_repo / "out").exists()
    assert (git_repo / "quiet.txt").read_text() == "quiet.txt\n"
    assert dot_git(git_repo) == user_git


def test_the_users_index_changing_mid_session_is_copied_again(git_repo: Path, tmp_path: Path) -> None:
    (git_repo / "a.txt").write_text("one\n")
    commit_all(git_repo)
    repo = shadow(git_repo, tmp_path)
    first = repo.snapshot("before")
    (git_repo / "a.txt").write_text("two\n")
    (git_repo / "b.txt").write_text("new\n")
    commit_all(git_repo, "the user commits between prompts")
    (git_repo / "b.txt").write_text("three\n")
    second = repo.snapshot("after")
    listed = git(git_repo, "--git-dir", str(tmp_path / "shadow"), "show", f"{second.tree}:b.txt")
    assert listed == "three\n"
    repo.restore(first.tree, repo.changes(first.tree))
    assert work_files(git_repo) == {"a.txt": b"one\n"}


def test_an_index_git_cannot_read_falls_back_and_says_so(git_repo: Path, tmp_path: Path) -> None:
    (git_repo / "a.txt").write_text("one\n")
    commit_all(git_repo)
    index = git_repo / ".git" / "index"
    data = index.read_bytes()
    index.write_bytes(data[:4] + (9).to_bytes(4, "big") + data[8:])  # an index version git cannot read
    repo = shadow(git_repo, tmp_path)
    snap = repo.snapshot("before")
    assert not repo.from_git
    assert len(repo.notes) == 1 and repo.notes[0].startswith("Checkpoints: git's index could not be used here (")
    assert "reads every file (up to 20,000 files and 256 MB)" in repo.notes[0]
    (git_repo / "a.txt").write_text("two\n")
    repo.restore(snap.tree, repo.changes(snap.tree))
    assert (git_repo / "a.txt").read_text() == "one\n"


def test_outside_git_a_big_first_snapshot_says_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(checkpoint_base, "_SLOW_FIRST_FILES", 5)
    work = tmp_path / "work"
    work.mkdir()
    for n in range(8):
        (work / f"f{n}").write_text("x")
    repo = shadow(work, tmp_path)
    repo.snapshot("s")
    assert repo.notes == [
        "Checkpoints: the folder is not in a git repository, so the first snapshot read all 8 files; "
        "in a git repository only the files that differ from git's index are read."
    ]
    with pytest.raises(CheckpointError, match="not in a git repository, so a first snapshot would read them all"):
        shadow(work, tmp_path / "other", max_files=5).snapshot("s")


def test_in_git_only_the_size_of_what_git_does_not_hold_is_limited(git_repo: Path, tmp_path: Path) -> None:
    (git_repo / "tracked.dat").write_bytes(b"t" * 3000)
    commit_all(git_repo)
    shadow(git_repo, tmp_path, max_total_bytes=1000).snapshot("tracked bytes cost nothing")
    (git_repo / "data.dat").write_bytes(b"d" * 3000)
    with pytest.raises(CheckpointError, match="git's index does not hold and .gitignore does not exclude"):
        shadow(git_repo, tmp_path, "s2", max_total_bytes=1000).snapshot("untracked bytes are stored")


def test_a_borrowed_object_git_removed_since_is_named(git_repo: Path, tmp_path: Path) -> None:
    (git_repo / "a.txt").write_text("only in the user's objects\n")
    commit_all(git_repo)
    repo = shadow(git_repo, tmp_path)
    snap = repo.snapshot("before")
    (git_repo / "a.txt").unlink()
    sha = git(git_repo, "rev-parse", "HEAD:a.txt").strip()
    git(git_repo, "update-ref", "-d", "refs/heads/main")
    (git_repo / ".git" / "objects" / sha[:2] / sha[2:]).unlink()
    with pytest.raises(CheckpointError, match="the snapshot's copy of a.txt is gone"):
        repo.restore(snap.tree, repo.changes(snap.tree))


# -- with the agent ---------------------------------------------------------------------------


def test_the_reading_before_a_run_is_done_on_a_thread_and_the_snapshot_still_sees_later_edits(
    fake_glm, git_repo: Path
) -> None:
    from glmcode.agent.setup import open_workspace
    from glmcode.config.layers import load_settings

    many_files(git_repo, 300)
    commit_all(git_repo)
    (git_repo / "notes.txt").write_text("the user's, before the prompt\n")
    fake = fake_glm([
        {"tool_calls": [{"name": "edit_file", "arguments": {
            "path": "pkg0/f0.txt", "old_string": "file 0", "new_string": "file zero"}}]},
        {"content": "done"},
    ])
    env = {**os.environ, "ZAI_API_KEY": "k", "GLMCODE_BASE_URL": fake.base_url}
    ws = open_workspace(load_settings(git_repo, env, {"permission_mode": "full-auto"}), git_repo,
                        approver=None, checkpoints=True, env=env)
    recorder = ws.agent.before_changes
    assert isinstance(recorder, CheckpointRecorder) and ws.agent.on_run_start == recorder.run_started

    warmed: list[bool] = []

    def warm_then_edit() -> None:
        """The reading done before the model answers; then the user edits a file meanwhile."""
        recorder.run_started()
        recorder.wait()
        warmed.append(recorder.repo.from_git and recorder.repo.index.exists())
        (git_repo / "notes.txt").write_text("the user's, edited while the model thought\n")

    ws.agent.on_run_start = warm_then_edit
    drive(ws.agent.run("rename file 0"), lambda e: None)
    settle_checkpoints(ws)
    assert warmed == [True]
    assert (git_repo / "pkg0" / "f0.txt").read_text() == "file zero\n"

    state = replay(ws.session.path)
    plan = undo_plan(recorder.repo, state)
    assert plan is not None and plan.lines() == ["  restored  pkg0/f0.txt"]
    restore_files(recorder.repo, plan, state, ws.session)
    assert (git_repo / "pkg0" / "f0.txt").read_text() == "file 0\n"
    assert (git_repo / "notes.txt").read_text() == "the user's, edited while the model thought\n"
    ws.session.close()


def test_a_change_due_while_the_reading_goes_on_waits_for_it_and_takes_it(git_repo: Path, tmp_path: Path) -> None:
    import threading

    from glmcode.agent.session import SessionWriter

    (git_repo / "a.txt").write_text("one\n")
    commit_all(git_repo)
    repo = shadow(git_repo, tmp_path)

    class Agent:
        messages = [{"role": "system", "content": ""}, {"role": "user", "content": "change a"}]

    recorder = CheckpointRecorder(repo, Agent(), SessionWriter(tmp_path / "s.jsonl", session_id="s1", header={}))
    read, go = threading.Event(), threading.Event()
    reads: list[str] = []
    real = repo.write_tree

    def write_tree() -> tuple[str, tuple[str, ...]]:
        result = real()
        reads.append(result[0])
        read.set()
        go.wait()  # still reading, as far as the change that comes now can tell
        return result

    repo.write_tree = write_tree  # type: ignore[method-assign]
    recorder.run_started()
    read.wait()
    thread = recorder._warming
    assert thread is not None
    real_join = thread.join

    def join(timeout: float | None = None) -> None:
        go.set()  # the change is waiting now
        real_join(timeout)

    thread.join = join  # type: ignore[method-assign]
    list(recorder(1))
    assert recorder.before is not None and recorder.before.tree == reads[0]
    assert len(reads) == 1  # the workspace was read once, on the thread
    recorder.session.close()


def test_the_end_of_a_run_is_snapshotted_on_a_thread_and_recorded_before_anything_reads_it(
    fake_glm, git_repo: Path
) -> None:
    import threading

    from glmcode.agent.setup import open_workspace
    from glmcode.config.layers import load_settings
    from glmcode.events import Notice, RunFinished

    (git_repo / "a.txt").write_text("one\n")
    commit_all(git_repo)
    edit = {"tool_calls": [{"name": "write_file", "arguments": {"path": "a.txt", "content": "two\n"}}]}
    fake = fake_glm([edit, {"content": "done"}, edit, {"content": "again"}])
    env = {**os.environ, "ZAI_API_KEY": "k", "GLMCODE_BASE_URL": fake.base_url}
    ws = open_workspace(load_settings(git_repo, env, {"permission_mode": "full-auto"}), git_repo,
                        approver=None, checkpoints=True, env=env)
    recorder = ws.agent.before_changes
    real = recorder.repo.snapshot
    go = threading.Event()
    waited: list[bool] = []

    def snapshot(message: str, written: object = None) -> object:
        if message.startswith("after"):
            waited.append(go.wait(timeout=30))
            if len(waited) == 2:
                raise CheckpointError("the disk is full")
        return real(message, written)  # type: ignore[arg-type]

    recorder.repo.snapshot = snapshot  # type: ignore[method-assign]
    events: list[object] = []
    drive(ws.agent.run("write two"), events.append)
    assert isinstance(events[-1], RunFinished) and waited == []  # the run ended, its end not yet read
    assert "checkpoint_after" not in ws.session.path.read_text()
    go.set()
    settle_checkpoints(ws)
    assert waited == [True] and '"checkpoint_after"' in ws.session.path.read_text()

    drive(ws.agent.run("write two again"), events.append)
    settle_checkpoints(ws)
    assert waited == [True, True]
    notices = [e.message for e in recorder(1) if isinstance(e, Notice)]  # the next checkpoint tells
    ws.session.close()
    assert notices == ["No snapshot of the end of the last run: the disk is full; "
                       "/undo will compare it with the files as they are then."]


def test_files_git_converts_on_the_way_in_come_back_as_they_were_on_disk(git_repo: Path, tmp_path: Path) -> None:
    """The user's index names the converted content (LF for a CRLF file, a filter's output),
    with stat data saying the file is unchanged: those entries are read again, not trusted."""
    (git_repo / ".gitattributes").write_text("*.txt text=auto eol=crlf\n*.up filter=upper\n")
    git(git_repo, "config", "filter.upper.clean", "tr a-z A-Z")
    (git_repo / "dos.txt").write_bytes(b"one\r\ntwo\r\n")
    (git_repo / "low.up").write_bytes(b"lower case on disk\n")
    (git_repo / "plain.py").write_bytes(b"X = 1\n")
    for name in ("dos.txt", "low.up", "plain.py", ".gitattributes"):
        os.utime(git_repo / name, (1_000_000_000, 1_000_000_000))  # long before the index: not racy
    commit_all(git_repo)
    assert git(git_repo, "show", "HEAD:low.up") == "LOWER CASE ON DISK\n"
    before = work_files(git_repo)

    repo = shadow(git_repo, tmp_path)
    snap = repo.snapshot("before")
    for name in ("dos.txt", "low.up", "plain.py"):
        (git_repo / name).write_bytes(b"changed by the run\n")
    repo.restore(snap.tree, repo.changes(snap.tree))
    assert work_files(git_repo) == before


def test_undo_in_a_terminal_session_in_a_git_repository(fake_glm, git_repo: Path, isolated_home: Path) -> None:
    """As a user would: `glmcode --full-auto` in a repository with uncommitted and untracked
    work, a run that edits a file and makes one with a shell command, then /undo."""
    from tui_harness import Term

    many_files(git_repo, 1000)
    commit_all(git_repo)
    (git_repo / "pkg1" / "f100.txt").write_bytes("uncommitted, Latin-1: café\n".encode("latin-1"))
    (git_repo / "scratch.bin").write_bytes(b"\x00\xffuntracked")
    before = work_files(git_repo)
    user_git = dot_git(git_repo)
    fake = fake_glm([
        {"tool_calls": [
            {"name": "write_file", "arguments": {"path": "pkg1/f100.txt", "content": "rewritten\n"}},
            {"name": "run_shell", "arguments": {"command": "printf made > pkg2/made.txt"}},
        ]},
        {"content": "Both done."},
    ])
    term = Term(["--full-auto"], git_repo, fake.base_url)
    try:
        ready = lambda screen: "(shift-tab)" in term.bottom()  # noqa: E731
        term.wait(ready)
        term.send("rewrite f100 and make a file\r")
        term.wait(lambda screen: "Both done." in screen and ready(screen))
        assert (git_repo / "pkg2" / "made.txt").read_text() == "made"
        term.send("/undo\r")
        screen = term.wait("Put back 2 files? [y/N]")
        assert "restored  pkg1/f100.txt" in screen and "deleted   pkg2/made.txt" in screen
        term.send("y\r")
        term.wait("Done: 2 files put back.")
        term.send("/exit\r")
        assert term.wait_exit() == 0
    finally:
        term.close()
    assert work_files(git_repo) == before
    assert dot_git(git_repo) == user_git
