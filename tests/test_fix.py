"""`glmcode fix` end to end: the real process, scripted fake-model runs, real git repositories."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import INTERPRETER_HIDDEN_BY_SANDBOX, run_glmcode
from test_fix_parts import lock_holder, wait_for_lock

KEY = "test-key-5c0ffee5c0ffee"
PY = shlex.quote(sys.executable)
PYTEST = f"{PY} -m pytest -q -p no:cacheprovider"
# A check that prints what `add` returns, so each failure says something new.
CHECK_ADD = f"{PY} -c \"from calc import add; r = add(2, 3); print('add(2, 3) =', r); raise SystemExit(r != 5)\""


def _env(fake) -> dict[str, str]:
    return {"ZAI_API_KEY": KEY, "GLMCODE_BASE_URL": fake.base_url}


def _git(repo: Path, *args: str) -> str:
    # Without optional locks, `git status` here never refreshes the index the tests compare.
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True).stdout


def _project(repo: Path) -> Path:
    """A small Python project whose one test fails: `add` subtracts."""
    (repo / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    (repo / "test_calc.py").write_text("from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n")
    (repo / "obsolete.py").write_text("OLD = True\n")
    (repo / ".gitignore").write_text("build/\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "start")
    return repo


def _edit(old: str, new: str, path: str = "calc.py") -> dict:
    return {"tool_calls": [{"name": "edit_file", "arguments": {"path": path, "old_string": old, "new_string": new}}]}


def _shell(command: str) -> dict:
    return {"tool_calls": [{"name": "run_shell", "arguments": {"command": command}}]}


def _write(path: str, content: str) -> dict:
    return {"tool_calls": [{"name": "write_file", "arguments": {"path": path, "content": content}}]}


def _answer(text: str = "Done.") -> dict:
    return {"content": text}


def _state(repo: Path) -> dict[str, object]:
    """Everything `fix --worktree` promises not to touch."""
    files = {
        str(p.relative_to(repo)): (p.read_bytes() if not p.is_symlink() else os.readlink(p))
        for p in sorted(repo.rglob("*"))
        if (p.is_file() or p.is_symlink()) and ".git" not in p.relative_to(repo).parts
    }
    return {
        "files": files,
        "index": (repo / ".git" / "index").read_bytes(),
        "status": _git(repo, "status", "--porcelain", "--untracked-files=all"),
        "stash": _git(repo, "stash", "list"),
        "branches": _git(repo, "branch", "--list", "--all"),
        "worktrees": _git(repo, "worktree", "list", "--porcelain"),
        "head": _git(repo, "rev-parse", "HEAD"),
    }


def _fix(repo: Path, fake, *args: str, stdin: str | None = None) -> tuple[subprocess.CompletedProcess[str], dict]:
    """Run `glmcode fix -o json ...`; returns the process and its JSON result."""
    proc = run_glmcode(["fix", "-o", "json", *args], repo, _env(fake), stdin=stdin)
    assert proc.stdout.strip(), proc.stderr
    return proc, json.loads(proc.stdout)


def test_failing_pytest_is_fixed_in_one_attempt(fake_glm, git_repo: Path) -> None:
    repo = _project(git_repo)
    fake = fake_glm([_edit("a - b", "a + b"), _answer("`add` subtracted; it adds now.")])
    proc = run_glmcode(["fix", "make the tests pass", "--check", PYTEST, "--patch-out", "fix.diff"], repo, _env(fake))
    assert proc.returncode == 0, proc.stderr
    assert (repo / "calc.py").read_text() == "def add(a, b):\n    return a + b\n"
    first = fake.requests[0].body["messages"][-1]["content"]
    assert first.startswith("make the tests pass")
    assert PYTEST in first and "1 failed" in first and "assert -1 == 5" in first
    assert ".glmcode-scratch/" in first
    patch = (repo / "fix.diff").read_text()
    assert "-    return a - b\n+    return a + b\n" in patch
    assert "fixed: the check passes after 1 attempt (exit 0)" in proc.stdout
    assert "calc.py (modified)" in proc.stdout and "cost" in proc.stdout
    assert "check failed (exit 1)" in proc.stderr and "check passed" in proc.stderr


def test_second_attempt_is_told_the_new_failure_in_the_same_conversation(fake_glm, git_repo: Path) -> None:
    repo = _project(git_repo)
    fake = fake_glm([
        _edit("a - b", "a * b"), _answer("Now it multiplies."),
        _edit("a * b", "a + b"), _answer("Now it adds."),
    ])
    proc, out = _fix(repo, fake, "make add correct", "--check", CHECK_ADD)
    assert proc.returncode == 0, proc.stderr
    assert out["status"] == "fixed" and len(out["attempts"]) == 2
    assert "add(2, 3) = -1" in fake.requests[0].body["messages"][-1]["content"]
    retry = fake.requests[2].body["messages"]
    assert retry[-1]["role"] == "user"
    assert "add(2, 3) = 6" in retry[-1]["content"] and "attempt 1 of 3" in retry[-1]["content"]
    assert retry[: len(fake.requests[1].body["messages"])] == fake.requests[1].body["messages"]
    assert [a["check_exit_code"] for a in out["attempts"]] == [1, 0]
    assert "add(2, 3) = 6" in out["attempts"][0]["output_tail"]


def test_a_fix_that_never_works_exits_3_and_leaves_the_last_attempt(fake_glm, git_repo: Path) -> None:
    repo = _project(git_repo)
    fake = fake_glm([_edit("a - b", "a * b"), _answer(), _edit("a * b", "a ** b"), _answer()])
    proc, out = _fix(repo, fake, "make add correct", "--check", CHECK_ADD, "--attempts", "2")
    assert proc.returncode == 3, proc.stderr
    assert out["status"] == "still_failing" and out["exit_code"] == 3
    assert [a["check_exit_code"] for a in out["attempts"]] == [1, 1]
    assert (repo / "calc.py").read_text() == "def add(a, b):\n    return a ** b\n"
    assert len(fake.requests) == 4


def test_a_fix_that_never_works_in_a_worktree_leaves_the_tree_untouched(fake_glm, git_repo: Path) -> None:
    repo = _project(git_repo)
    before = _state(repo)
    fake = fake_glm([_edit("a - b", "a * b"), _answer()])
    proc, out = _fix(repo, fake, "make add correct", "--check", CHECK_ADD, "--attempts", "1", "--worktree")
    assert proc.returncode == 3, proc.stderr
    assert _state(repo) == before
    assert out["files_changed"] == [{"path": "calc.py", "status": "modified"}]
    assert Path(out["patch"]).read_text().count("a * b") == 1, "the last attempt is kept as a patch"


def test_no_apply_alone_works_in_a_worktree(fake_glm, git_repo: Path) -> None:
    repo = _project(git_repo)
    before = _state(repo)
    fake = fake_glm([_edit("a - b", "a + b"), _answer()])
    proc, out = _fix(repo, fake, "fix add", "--check", CHECK_ADD, "--no-apply")
    assert proc.returncode == 0, proc.stderr
    assert out["worktree"] is True and out["applied"] is False
    assert _state(repo) == before


def test_apply_alone_works_in_a_worktree_and_applies_a_fix(fake_glm, git_repo: Path) -> None:
    repo = _project(git_repo)
    fake = fake_glm([_edit("a - b", "a + b"), _answer()])
    proc, out = _fix(repo, fake, "fix add", "--check", CHECK_ADD, "--apply")
    assert proc.returncode == 0, proc.stderr
    assert out["worktree"] is True and out["applied"] is True
    assert (repo / "calc.py").read_text() == "def add(a, b):\n    return a + b\n"


def test_apply_alone_leaves_your_files_alone_when_the_fix_fails(fake_glm, git_repo: Path) -> None:
    repo = _project(git_repo)
    before = _state(repo)
    fake = fake_glm([_edit("a - b", "a * b"), _answer()])
    proc, out = _fix(repo, fake, "fix add", "--check", CHECK_ADD, "--attempts", "1", "--apply")
    assert proc.returncode == 3, proc.stderr
    assert out["worktree"] is True and out["applied"] is False
    assert _state(repo) == before


def test_a_model_that_changes_nothing_exits_4(fake_glm, git_repo: Path) -> None:
    repo = _project(git_repo)
    fake = fake_glm([_answer("I do not see a problem."), _answer("Still none.")])
    proc, out = _fix(repo, fake, "make add correct", "--check", CHECK_ADD, "--attempts", "2")
    assert proc.returncode == 4, proc.stderr
    assert out["status"] == "no_change" and out["files_changed"] == [] and out["patch"] is None
    assert _git(repo, "status", "--porcelain") == ""


def test_worktree_leaves_the_users_tree_index_and_stash_byte_identical(fake_glm, git_repo: Path) -> None:
    repo = _project(git_repo)
    # Uncommitted work of every kind: staged, unstaged, untracked, deleted, ignored.
    (repo / "calc.py").write_text("def add(a, b):\n    return a - b\n\n\nTWO = 2\n")
    (repo / "staged.py").write_text("STAGED = 1\n")
    _git(repo, "add", "staged.py")
    (repo / "notes.txt").write_text("mine, untracked\n")
    (repo / "obsolete.py").unlink()
    (repo / "build").mkdir()
    (repo / "build" / "out.log").write_text("ignored\n")
    before = _state(repo)

    work: list[Path] = []
    seen: list[str] = []

    def look_at_the_worktree(body: dict) -> dict:
        # While the agent works, the worktree is listed beside the user's tree; it must hold
        # HEAD plus the uncommitted work, and not the ignored files.
        listing = _git(repo, "worktree", "list", "--porcelain")
        work.extend(Path(line[9:]) for line in listing.splitlines()
                    if line.startswith("worktree ") and Path(line[9:]) != repo)
        seen.append(_git(work[0], "status", "--porcelain", "--untracked-files=all"))
        return _edit("a - b", "a + b")

    fake = fake_glm([look_at_the_worktree, _answer()])
    proc, out = _fix(repo, fake, "fix add", "--check", CHECK_ADD, "--worktree", "--patch-out", str(repo.parent / "fix.diff"))
    assert proc.returncode == 0, proc.stderr
    assert _state(repo) == before
    assert work and work[0] != repo and not work[0].exists(), "the worktree is removed afterwards"
    assert " M calc.py" in seen[0] and "?? staged.py" in seen[0] and "?? notes.txt" in seen[0]
    assert " D obsolete.py" in seen[0] and "build/" not in seen[0]
    assert out["worktree"] is True and out["applied"] is False
    assert out["files_changed"] == [{"path": "calc.py", "status": "modified"}]
    subprocess.run(["git", "apply", "--check", str(repo.parent / "fix.diff")], cwd=repo, check=True)


def test_patch_with_new_deleted_and_binary_files_applies_to_a_fresh_clone(fake_glm, git_repo: Path, tmp_path: Path) -> None:
    repo = _project(git_repo)
    fake = fake_glm([
        _write("helpers/numbers.py", "def plus(a, b):\n    return a + b\n"),
        _edit("def add(a, b):\n    return a - b\n", "from helpers.numbers import plus\n\n\ndef add(a, b):\n    return plus(a, b)\n"),
        _shell("rm obsolete.py && printf '\\000\\001\\002\\377' > data.bin"),
        _answer(),
    ])
    patch_file = tmp_path / "fix.diff"
    proc, out = _fix(repo, fake, "make the tests pass", "--check", PYTEST, "--worktree", "--patch-out", str(patch_file))
    assert proc.returncode == 0, proc.stderr
    assert sorted((f["path"], f["status"]) for f in out["files_changed"]) == [
        ("calc.py", "modified"), ("data.bin", "added"), ("helpers/numbers.py", "added"), ("obsolete.py", "deleted"),
    ]
    patch = patch_file.read_bytes()
    assert b"GIT binary patch" in patch and b"deleted file mode" in patch and b"new file mode" in patch
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(repo), str(clone)], check=True)
    assert subprocess.run(PYTEST, shell=True, cwd=clone, capture_output=True).returncode == 1
    subprocess.run(["git", "apply", str(patch_file)], cwd=clone, check=True)
    assert (clone / "data.bin").read_bytes() == b"\x00\x01\x02\xff"
    assert not (clone / "obsolete.py").exists()
    assert subprocess.run(PYTEST, shell=True, cwd=clone, capture_output=True).returncode == 0


@INTERPRETER_HIDDEN_BY_SANDBOX
def test_scratch_and_ignored_files_stay_out_of_the_patch(fake_glm, git_repo: Path, tmp_path: Path) -> None:
    repo = _project(git_repo)
    fake = fake_glm([
        _write(".glmcode-scratch/plan.md", "try a + b\n"),
        _write("build/trace.log", "ignored by .gitignore\n"),
        _shell(f"{PY} -c 'import py_compile; py_compile.compile(\"test_calc.py\")'"),  # writes __pycache__
        _edit("a - b", "a + b"),
        _answer(),
    ])
    proc, out = _fix(repo, fake, "fix add", "--check", CHECK_ADD, "--patch-out", str(tmp_path / "fix.diff"))
    assert proc.returncode == 0, proc.stderr
    assert (repo / ".glmcode-scratch" / "plan.md").exists() and (repo / "__pycache__").is_dir()
    assert out["files_changed"] == [{"path": "calc.py", "status": "modified"}]
    patch = (tmp_path / "fix.diff").read_text()
    assert "plan.md" not in patch and "trace.log" not in patch and "__pycache__" not in patch


def test_a_hanging_check_is_killed_at_its_timeout_with_its_children(fake_glm, git_repo: Path, tmp_path: Path) -> None:
    repo = _project(git_repo)
    lock = tmp_path / "lock"
    fake = fake_glm([_edit("a - b", "a + b"), _answer()])
    started = time.monotonic()
    proc, out = _fix(repo, fake, "fix add", "--check", f"{lock_holder(lock)}; sleep 60", "--check-timeout", "1",
                     "--attempts", "1")
    elapsed = time.monotonic() - started
    assert elapsed < 20, f"took {elapsed:.1f}s"
    assert proc.returncode == 3, proc.stderr
    assert out["initial_check"]["timed_out"] is True and out["initial_check"]["exit_code"] is None
    assert out["attempts"][0]["check_timed_out"] is True
    assert "timed out" in fake.requests[0].body["messages"][-1]["content"]
    assert wait_for_lock(lock) < 10, "the check's child survived the timeout"


def test_apply_puts_the_fix_into_the_users_tree_and_leaves_the_index(fake_glm, git_repo: Path) -> None:
    repo = _project(git_repo)
    (repo / "notes.txt").write_text("untracked, kept\n")
    index = (repo / ".git" / "index").read_bytes()
    fake = fake_glm([_edit("a - b", "a + b"), _write("NEWS.md", "add adds\n"), _answer()])
    proc, out = _fix(repo, fake, "fix add", "--check", CHECK_ADD, "--worktree", "--apply")
    assert proc.returncode == 0, proc.stderr
    assert out["applied"] is True
    assert (repo / "calc.py").read_text() == "def add(a, b):\n    return a + b\n"
    assert (repo / "NEWS.md").read_text() == "add adds\n"
    assert (repo / "notes.txt").read_text() == "untracked, kept\n"
    assert (repo / ".git" / "index").read_bytes() == index
    assert Path(out["patch"]).parent == repo / ".git" / "glmcode", "without --patch-out the patch is kept in .git"


def test_apply_refuses_when_your_files_changed_meanwhile_and_keeps_the_patch(fake_glm, git_repo: Path) -> None:
    repo = _project(git_repo)

    def user_edits_too(body: dict) -> dict:
        (repo / "calc.py").write_text("def add(a, b):\n    return b - a\n")
        return _edit("a - b", "a + b")

    fake = fake_glm([user_edits_too, _answer()])
    proc, out = _fix(repo, fake, "fix add", "--check", CHECK_ADD, "--worktree", "--apply", "--patch-out", "fix.diff")
    assert proc.returncode == 1, proc.stderr
    assert out["status"] == "error" and out["error"]["kind"] == "apply" and out["applied"] is False
    assert "fix.diff" in out["error"]["hint"]
    assert (repo / "calc.py").read_text() == "def add(a, b):\n    return b - a\n", "your edit is kept"
    assert "+    return a + b" in (repo / "fix.diff").read_text()


def test_json_result_has_every_field(fake_glm, git_repo: Path) -> None:
    repo = _project(git_repo)
    usage = {"prompt_tokens": 2000, "completion_tokens": 100, "cached_tokens": 1500}
    fake = fake_glm([{**_edit("a - b", "a + b"), "usage": usage}, {**_answer("Fixed."), "usage": usage}])
    index = (repo / ".git" / "index").read_bytes()
    proc, out = _fix(repo, fake, "fix add", "--check", CHECK_ADD, "--patch-out", "out.diff")
    assert proc.returncode == 0, proc.stderr
    assert (repo / ".git" / "index").read_bytes() == index, "working in place, the index is only read"
    assert proc.stdout.count("\n") == 1, "one JSON object on one line"
    assert out["type"] == "result" and out["status"] == "fixed" and out["exit_code"] == 0
    assert out["check"] == CHECK_ADD
    assert out["initial_check"]["exit_code"] == 1 and "add(2, 3) = -1" in out["initial_check"]["output_tail"]
    [attempt] = out["attempts"]
    assert attempt["number"] == 1 and attempt["agent_status"] == "done" and attempt["turns"] == 2
    assert attempt["check_exit_code"] == 0 and attempt["check_passed"] is True
    assert "add(2, 3) = 5" in attempt["output_tail"]
    assert attempt["duration_s"] >= attempt["check_duration_s"] > 0
    assert out["files_changed"] == [{"path": "calc.py", "status": "modified"}]
    assert out["patch"] == str(repo / "out.diff")
    assert out["usage"] == {"prompt_tokens": 4000, "completion_tokens": 200, "cached_tokens": 3000}
    assert out["cost_usd"] > 0 and out["duration_s"] > 0 and out["session_id"]
    assert out["result"] == "Fixed." and out["error"] is None
    assert KEY not in proc.stdout + proc.stderr


def test_budget_limit_stops_the_agent_and_exits_5(fake_glm, git_repo: Path) -> None:
    repo = _project(git_repo)
    expensive = {"prompt_tokens": 1_000_000, "completion_tokens": 0, "cached_tokens": 0}  # $0.60 for glm-4.6
    fake = fake_glm([{**_edit("a - b", "a * b"), "usage": expensive}, _answer("never asked")])
    proc, out = _fix(repo, fake, "fix add", "--check", CHECK_ADD, "--budget-usd", "0.5")
    assert proc.returncode == 5, proc.stderr
    assert out["status"] == "budget_limit" and out["cost_usd"] > 0.5
    assert "--budget-usd 0.5" in out["message"]
    assert len(fake.requests) == 1, "no request after the budget is spent"
    assert (repo / "calc.py").read_text() == "def add(a, b):\n    return a * b\n", "calls already paid for still run"


def test_turn_limit_exits_5(fake_glm, git_repo: Path) -> None:
    repo = _project(git_repo)
    fake = fake_glm([_shell("true")] * 3)
    proc, out = _fix(repo, fake, "fix add", "--check", CHECK_ADD, "--max-turns", "2")
    assert proc.returncode == 5, proc.stderr
    assert out["status"] == "turn_limit" and out["attempts"][0]["agent_status"] == "max_turns"
    assert len(fake.requests) == 2


def test_a_limit_does_not_hide_a_fix_the_check_proves(fake_glm, git_repo: Path) -> None:
    repo = _project(git_repo)
    fake = fake_glm([_edit("a - b", "a + b"), _shell("true")])
    proc, out = _fix(repo, fake, "fix add", "--check", CHECK_ADD, "--max-turns", "1")
    assert proc.returncode == 0, proc.stderr
    assert out["status"] == "fixed" and out["attempts"][0]["agent_status"] == "max_turns"


def test_a_check_that_already_passes_means_nothing_to_fix(fake_glm, git_repo: Path) -> None:
    repo = _project(git_repo)
    fake = fake_glm([_answer("never asked")])
    proc, out = _fix(repo, fake, "fix add", "--check", "true", "--patch-out", "fix.diff")
    assert proc.returncode == 0, proc.stderr
    assert out["status"] == "already_passing" and out["attempts"] == [] and out["files_changed"] == []
    assert fake.requests == []
    assert (repo / "fix.diff").read_bytes() == b""


def test_the_check_and_the_agents_commands_do_not_see_the_api_key(fake_glm, git_repo: Path) -> None:
    repo = _project(git_repo)
    fake = fake_glm([_shell('echo "[$ZAI_API_KEY]" > seen.txt'), _answer()])
    check = 'echo "[$ZAI_API_KEY][$GLMCODE_API_KEY]"; test -f seen.txt'
    proc, out = _fix(repo, fake, "write seen.txt", "--check", check)
    assert proc.returncode == 0, proc.stderr
    assert out["initial_check"]["output_tail"] == "[][]\n"
    assert (repo / "seen.txt").read_text() == "[]\n"
    assert KEY not in json.dumps(out) and KEY not in json.dumps(fake.requests[-1].body)


def test_without_a_check_one_run_that_changes_something_succeeds(fake_glm, git_repo: Path) -> None:
    repo = _project(git_repo)
    fake = fake_glm([_write("README.md", "# calc\n"), _answer("Added a README.")])
    proc = run_glmcode(["fix", "-", "--worktree", "--patch-out", "-"], repo, _env(fake), stdin="add a README\n")
    assert proc.returncode == 0, proc.stderr
    assert fake.requests[0].body["messages"][-1]["content"].startswith("add a README")
    assert proc.stdout.startswith("diff --git a/README.md b/README.md\nnew file mode 100644\n")
    assert "+# calc" in proc.stdout
    assert "done: 1 file changed (exit 0)" in proc.stderr, "with the patch on stdout, people read stderr"
    assert not (repo / "README.md").exists()


def test_without_a_check_nothing_is_said_about_attempts(fake_glm, git_repo: Path) -> None:
    repo = _project(git_repo)
    fake = fake_glm([_write("README.md", "# calc\n"), _answer(), _write("NOTES.md", "notes\n"), _answer()])
    text = run_glmcode(["fix", "add a README"], repo, _env(fake))
    assert text.returncode == 0, text.stderr
    assert "attempt" not in text.stderr, "--attempts has no effect without --check"
    stream = run_glmcode(["fix", "-o", "stream-json", "add notes"], repo, _env(fake))
    assert stream.returncode == 0, stream.stderr
    types = [json.loads(line)["type"] for line in stream.stdout.splitlines()]
    assert "attempt_started" not in types and "run_finished" in types


def test_without_a_check_no_change_exits_4(fake_glm, git_repo: Path) -> None:
    repo = _project(git_repo)
    (repo / "task.md").write_text("explain calc.py\n")
    fake = fake_glm([_answer("It adds, badly.")])
    proc, out = _fix(repo, fake, "--task-file", "task.md")
    assert proc.returncode == 4, proc.stderr
    assert fake.requests[0].body["messages"][-1]["content"].startswith("explain calc.py")


def test_from_a_subfolder_the_check_runs_there_and_the_patch_is_from_the_top(fake_glm, git_repo: Path) -> None:
    pkg = git_repo / "pkg"
    pkg.mkdir()
    _project(pkg)
    fake = fake_glm([_edit("a - b", "a + b"), _answer()])
    proc = run_glmcode(["fix", "-o", "json", "fix add", "--check", CHECK_ADD, "--worktree", "--cd", "pkg",
                        "--patch-out", "fix.diff"], git_repo, _env(fake))
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["files_changed"] == [{"path": "pkg/calc.py", "status": "modified"}]
    assert out["patch"] == str(pkg / "fix.diff"), "relative paths are taken from --cd"
    assert "diff --git a/pkg/calc.py b/pkg/calc.py" in (pkg / "fix.diff").read_text()
    subprocess.run(["git", "apply", "pkg/fix.diff"], cwd=git_repo, check=True)
    assert (pkg / "calc.py").read_text() == "def add(a, b):\n    return a + b\n"


def test_the_agent_runs_in_full_auto(fake_glm, git_repo: Path) -> None:
    repo = _project(git_repo)
    fake = fake_glm([_shell("echo made > made.txt"), _answer()])
    proc, out = _fix(repo, fake, "make a file")
    assert proc.returncode == 0, proc.stderr
    assert (repo / "made.txt").read_text() == "made\n"


def test_fix_opens_the_agent_without_a_hint_for_approvals(fake_glm, git_repo: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    # Nothing asks for approval in full-auto, so a hint on how to approve could never show.
    import glmcode.agent.setup as setup
    from glmcode.fix import FixOptions, fix_command

    repo = _project(git_repo)
    fake = fake_glm([_write("README.md", "# calc\n"), _answer()])
    for name, value in _env(fake).items():
        monkeypatch.setenv(name, value)
    opened: list[dict] = []
    real = setup.open_workspace

    def open_workspace(*args, **kwargs):
        opened.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(setup, "open_workspace", open_workspace)
    assert fix_command(FixOptions(task="add a README", output_format="json"), {}, cd=str(repo)) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "fixed"
    assert [kwargs.get("headless_hint", "") for kwargs in opened] == [""]


def test_stream_json_shows_checks_and_agent_events_then_the_result(fake_glm, git_repo: Path) -> None:
    repo = _project(git_repo)
    fake = fake_glm([_edit("a - b", "a + b"), _answer()])
    proc = run_glmcode(["fix", "-o", "stream-json", "fix add", "--check", CHECK_ADD], repo, _env(fake))
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    types = [r["type"] for r in records]
    assert types[0] == "check_started" and types[-1] == "result"
    for t in ("check_finished", "session_started", "attempt_started", "tool_call", "tool_result", "run_finished"):
        assert t in types
    checks = [r for r in records if r["type"] == "check_finished"]
    assert [c["attempt"] for c in checks] == [0, 1] and [c["exit_code"] for c in checks] == [1, 0]


@pytest.mark.parametrize("args, message", [
    ([], "no task"),
    (["  "], "no task"),
    (["task", "--task-file", "t.md"], "not both"),
    (["task", "--patch-out", "-", "-o", "json"], "standard output"),
    (["task", "--check", ""], "--check is empty"),
    (["task", "-o", "xml"], "output-format"),
])
def test_usage_errors_exit_2(git_repo: Path, args: list[str], message: str) -> None:
    proc = run_glmcode(["fix", *args], git_repo, {"ZAI_API_KEY": KEY})
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_outside_a_git_repository_is_a_usage_error(tmp_path: Path) -> None:
    proc = run_glmcode(["fix", "do it"], tmp_path, {"ZAI_API_KEY": KEY, "GIT_CEILING_DIRECTORIES": str(tmp_path.parent)})
    assert proc.returncode == 2
    assert "not inside a git repository" in proc.stderr


@pytest.mark.parametrize("flag", ["--worktree", "--apply", "--no-apply"])
def test_worktree_needs_a_commit(git_repo: Path, flag: str) -> None:
    proc = run_glmcode(["fix", "do it", flag], git_repo, {"ZAI_API_KEY": KEY})
    assert proc.returncode == 2 and "needs a commit" in proc.stderr
    assert "--apply and --no-apply" in proc.stderr, "the message says why a worktree is needed"


def test_missing_key_is_a_usage_error(git_repo: Path) -> None:
    proc = run_glmcode(["fix", "do it"], git_repo)
    assert proc.returncode == 2 and "ZAI_API_KEY" in proc.stderr


def test_an_api_error_exits_1(fake_glm, git_repo: Path) -> None:
    repo = _project(git_repo)
    fake = fake_glm([_answer()], api_key="another-key")
    proc, out = _fix(repo, fake, "fix add", "--check", CHECK_ADD)
    assert proc.returncode == 1
    assert out["status"] == "error" and out["error"]["kind"] == "auth"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_during_the_check_exits_130_and_removes_the_worktree(fake_glm, git_repo: Path, tmp_path: Path, sig: int) -> None:
    repo = _project(git_repo)
    fifo = tmp_path / "started"
    os.mkfifo(fifo)
    fake = fake_glm([_answer()])
    env = {**os.environ, **_env(fake)}
    lock = tmp_path / "lock"
    check = f"{lock_holder(lock)}; echo started > {shlex.quote(str(fifo))}; sleep 60"
    proc = subprocess.Popen([sys.executable, "-m", "glmcode", "fix", "-o", "json", "fix", "--check", check, "--worktree"],
                            cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with open(fifo) as f:  # returns once the check is running
        assert f.read() == "started\n"
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr
    assert json.loads(stdout)["status"] == "interrupted"
    assert _git(repo, "worktree", "list", "--porcelain").count("worktree ") == 1
    assert not (repo / ".git" / "worktrees").exists()
    assert wait_for_lock(lock) < 10, "the check is killed with glmcode"


def test_interrupt_while_the_model_answers_keeps_the_work_done_so_far(fake_glm, git_repo: Path, tmp_path: Path) -> None:
    repo = _project(git_repo)
    before = _state(repo)
    asked = threading.Event()

    def slow(body: dict) -> dict:
        asked.set()
        return {"first_byte_delay": 30, "content": "too late"}

    fake = fake_glm([_edit("a - b", "a * b"), slow])
    env = {**os.environ, **_env(fake)}
    patch_file = tmp_path / "fix.diff"
    proc = subprocess.Popen([sys.executable, "-m", "glmcode", "fix", "-o", "json", "fix add", "--check", CHECK_ADD,
                             "--worktree", "--patch-out", str(patch_file)],
                            cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert asked.wait(30), "the second request never came"
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr
    out = json.loads(stdout)
    assert out["status"] == "interrupted" and out["attempts"][0]["agent_status"] == "interrupted"
    assert "a * b" in patch_file.read_text(), "the edit made before Ctrl-C is in the patch"
    assert _state(repo) == before


def test_fix_with_an_image_sends_it_to_the_vision_model_first(fake_glm, git_repo: Path) -> None:
    from PIL import Image as Pillow

    repo = _project(git_repo)
    Pillow.new("RGB", (40, 30), "red").save(repo / "failure.png", "PNG")
    fake = fake_glm([
        {"by_model": {"glm-4.6v": {"content": "A red test report: assert -1 == 5"}}},
        _edit("a - b", "a + b"),
        _answer(),
    ])
    proc = run_glmcode(["fix", "make the tests pass", "--check", PYTEST, "--image", "failure.png"], repo, _env(fake))
    assert proc.returncode == 0, proc.stderr
    assert [r.body["model"] for r in fake.requests] == ["glm-4.6v", "glm-4.6", "glm-4.6"]
    task = fake.requests[1].body["messages"][-1]["content"]
    assert task.startswith("make the tests pass") and "A red test report: assert -1 == 5" in task


def test_fix_with_a_missing_image_exits_2_before_any_work(fake_glm, git_repo: Path) -> None:
    repo = _project(git_repo)
    fake = fake_glm([_answer()])
    proc = run_glmcode(["fix", "make the tests pass", "--check", PYTEST, "--image", "nope.png"], repo, _env(fake))
    assert proc.returncode == 2
    assert "nope.png: no such file" in proc.stderr and fake.requests == []
