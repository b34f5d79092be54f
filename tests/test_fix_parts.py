"""The pieces of `glmcode fix` on their own: the check runner, the worktree, snapshots and
patches, the exit-status table and the prompts."""

from __future__ import annotations

import fcntl
import io
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest

from glmcode.events import TokenUsage
from glmcode.fix.check import CheckResult, run_check, tail
from glmcode.fix.repository import GitError, NotARepository, Repository, fix_git
from glmcode.fix.outcome import EXIT_CODES, decide
from glmcode.fix.patch import FileChange, apply, changed_files, diff, snapshot
from glmcode.fix.prompts import fenced_tail, first_prompt, retry_prompt
from glmcode.fix.report import FixReport, print_summary
from glmcode.fix.workflow import Attempt, WorkResult
from glmcode.fix.worktree import TempWorktree


def _git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True).stdout


def _commit(repo: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "commit")


# The check runner


def test_check_keeps_output_and_exit_code(tmp_path: Path) -> None:
    result = run_check("echo out; echo err >&2; exit 3", tmp_path, timeout=10)
    assert result.exit_code == 3 and not result.passed and not result.timed_out
    assert result.output == "out\nerr\n"
    assert result.describe() == "failed (exit 3)"


def test_check_writes_no_bytecode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTHONDONTWRITEBYTECODE", raising=False)
    (tmp_path / "mod.py").write_text("X = 1\n")
    result = run_check(f"{shlex.quote(sys.executable)} -c 'import mod'", tmp_path, timeout=30)
    assert result.passed, result.output
    assert not (tmp_path / "__pycache__").exists()


def test_check_runs_in_bash_in_the_given_folder(tmp_path: Path) -> None:
    result = run_check("[[ -n $BASH_VERSION ]] && pwd", tmp_path, timeout=10)
    assert result.passed and result.output.strip() == str(tmp_path)


def test_the_check_does_not_see_the_api_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZAI_API_KEY", "zai-secret")
    monkeypatch.setenv("GLMCODE_API_KEY", "glmcode-secret")
    result = run_check('echo "[$ZAI_API_KEY][$GLMCODE_API_KEY]"', tmp_path, timeout=10)
    assert result.output == "[][]\n"


def test_git_does_not_see_the_api_key(git_repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Repository configuration can make git run commands (filters, fsmonitor, aliases). GitPython
    # can only add to a child's environment, so this proves the variables are taken out.
    monkeypatch.setenv("ZAI_API_KEY", "zai-secret")
    monkeypatch.setenv("GLMCODE_API_KEY", "glmcode-secret")
    _git(git_repo, "config", "alias.key", "!echo \"[$ZAI_API_KEY][$GLMCODE_API_KEY]\"; env")
    out = fix_git(git_repo).text("key")
    assert out.splitlines()[0] == "[][]"
    assert "secret" not in out and "API_KEY=" not in out


def lock_holder(lock: Path) -> str:
    """A command that takes a lock, then leaves a child holding it for a minute: the lock comes
    free the moment that child dies, which is how the tests see that it was killed."""
    code = (
        "import fcntl, subprocess, sys; f = open(sys.argv[1], 'w'); fcntl.flock(f, fcntl.LOCK_EX); "
        "subprocess.Popen(['sleep', '60'], pass_fds=[f.fileno()])"
    )
    return f"{shlex.quote(sys.executable)} -c {shlex.quote(code)} {shlex.quote(str(lock))}"


def wait_for_lock(lock: Path) -> float:
    started = time.monotonic()
    with open(lock) as f:
        fcntl.flock(f, fcntl.LOCK_EX)
    return time.monotonic() - started


def test_check_is_killed_with_its_children_at_the_time_limit(tmp_path: Path) -> None:
    lock = tmp_path / "lock"
    started = time.monotonic()
    result = run_check(f"{lock_holder(lock)}; echo waiting; sleep 60", tmp_path, timeout=0.5)
    assert time.monotonic() - started < 10
    assert result.timed_out and result.exit_code is None and not result.passed
    assert result.output == "waiting\n"
    assert result.describe().startswith("timed out after")
    assert wait_for_lock(lock) < 10, "the check's child outlived the time limit"


def test_a_background_child_holding_the_output_does_not_delay_the_result(tmp_path: Path) -> None:
    lock = tmp_path / "lock"
    started = time.monotonic()
    result = run_check(f"{lock_holder(lock)}; echo done", tmp_path, timeout=30)
    assert time.monotonic() - started < 10
    assert result.passed and result.output == "done\n"
    assert wait_for_lock(lock) < 10, "a child the check left behind is killed with it"


def test_what_the_check_leaves_running_gets_sigterm_first(tmp_path: Path) -> None:
    # The background shell says it is ready (its trap set) before the check exits.
    command = "mkfifo ready; (trap 'echo term > term.txt; exit' TERM; echo > ready; sleep 60 & wait) & read < ready"
    result = run_check(command, tmp_path, timeout=30)
    assert result.passed, result.output
    assert (tmp_path / "term.txt").read_text() == "term\n", "it could clean up before it went"


def test_tail_cuts_at_a_line_and_says_so() -> None:
    text = "".join(f"line {n}\n" for n in range(1000))
    cut = tail(text, 100)
    assert cut.startswith("[... ") and "earlier characters left out" in cut
    assert cut.endswith("line 999\n")
    body = cut.split("\n", 1)[1]
    assert body.startswith("line ") and len(body) <= 100
    assert tail("short\n", 100) == "short\n"


# Prompts


def test_first_prompt_holds_task_command_and_failing_output() -> None:
    check = CheckResult("make test", 2, "FAILED test_x\n", 0.1)
    prompt = first_prompt("  fix the parser  ", check)
    assert prompt.startswith("fix the parser\n")
    assert "    make test\n" in prompt and "failed (exit 2)" in prompt and "FAILED test_x" in prompt
    assert ".glmcode-scratch/" in prompt and "do not commit" in prompt
    assert "$" not in prompt.replace("$ ", "")


def test_first_prompt_without_a_check() -> None:
    prompt = first_prompt("add a README", None)
    assert prompt.startswith("add a README\n") and ".glmcode-scratch/" in prompt
    assert "check passes" not in prompt


def test_retry_prompt_names_the_attempt_and_the_new_output() -> None:
    check = CheckResult("pytest", None, "still hanging", 5.0, timed_out=True)
    prompt = retry_prompt(check, 2, 3)
    assert "attempt 2 of 3" in prompt and "timed out" in prompt and "still hanging" in prompt and "`pytest`" in prompt


def test_output_fence_is_longer_than_any_backticks_inside() -> None:
    fenced = fenced_tail("a ```` b\n")
    assert fenced.startswith("`````\n") and fenced.endswith("\n`````")
    assert fenced_tail("") == "```\n(no output)\n```"


# Exit statuses


def _result(stopped: str, *checks: int | None) -> WorkResult:
    attempts = [Attempt(n, "done", 1, None if c is None else CheckResult("c", c, "", 0.1), 0.2, "")
                for n, c in enumerate(checks, 1)]
    return WorkResult(stopped, CheckResult("c", 1, "", 0.1), attempts)


@pytest.mark.parametrize("result, changed, has_check, status", [
    (_result("passed", 1, 0), True, True, "fixed"),
    (_result("passed", 0), False, True, "no_change"),
    (_result("attempts", 1, 1), True, True, "still_failing"),
    (_result("attempts", 1, 1), False, True, "no_change"),
    (_result("max_turns", 1), True, True, "turn_limit"),
    (_result("max_turns", 0), True, True, "fixed"),
    (_result("budget", 1), True, True, "budget_limit"),
    (_result("budget"), False, True, "budget_limit"),
    (_result("done", None), True, False, "fixed"),
    (_result("done", None), False, False, "no_change"),
    (_result("max_turns", None), True, False, "turn_limit"),
    (_result("error", None), True, True, "error"),
    (_result("interrupted", 0), True, True, "interrupted"),
    (WorkResult("already_passing", CheckResult("c", 0, "", 0.1)), False, True, "already_passing"),
])
def test_status_table(result: WorkResult, changed: bool, has_check: bool, status: str) -> None:
    assert decide(result, changed, has_check) == status


def test_exit_codes_follow_the_design() -> None:
    assert EXIT_CODES == {"fixed": 0, "already_passing": 0, "error": 1, "usage": 2, "still_failing": 3,
                          "no_change": 4, "turn_limit": 5, "budget_limit": 5, "interrupted": 130}


def test_exit_codes_mean_what_they_mean_for_exec() -> None:
    from glmcode.ui.headless import EXIT_CODES as EXEC

    assert {EXIT_CODES[s] for s in ("fixed", "already_passing")} == {EXEC["done"]}
    assert {EXIT_CODES[s] for s in ("turn_limit", "budget_limit")} == {EXEC["max_turns"]}
    assert (EXIT_CODES["error"], EXIT_CODES["interrupted"]) == (EXEC["error"], EXEC["interrupted"])
    assert not {EXIT_CODES[s] for s in ("usage", "still_failing", "no_change")} & set(EXEC.values())


# Snapshots, patches and the worktree


def test_snapshot_leaves_out_ignored_scratch_and_bytecode_and_never_writes_the_index(git_repo: Path) -> None:
    _commit(git_repo, {"a.txt": "a\n", ".gitignore": "*.log\n"})
    head_tree = _git(git_repo, "rev-parse", "HEAD^{tree}").strip()
    (git_repo / "a.txt").write_text("a2\n")
    for name in ("new.txt", "run.log", ".glmcode-scratch/n.md", "sub/.glmcode-scratch/m.md", "sub/__pycache__/x.pyc"):
        (git_repo / name).parent.mkdir(parents=True, exist_ok=True)
        (git_repo / name).write_text("x\n")
    index = (git_repo / ".git" / "index").read_bytes()
    repo = Repository.find(git_repo / "sub")
    assert repo.top == git_repo.resolve() and repo.subdir == Path("sub")
    after = snapshot(repo.top, repo.index)
    assert [(f.path, f.status) for f in changed_files(repo.top, head_tree, after)] == [
        ("a.txt", "modified"), ("new.txt", "added")]
    assert (git_repo / ".git" / "index").read_bytes() == index
    assert snapshot(repo.top, repo.index) == after, "the same files give the same tree"


def test_snapshot_sees_a_same_size_edit_made_in_the_second_the_index_was_written(git_repo: Path) -> None:
    # Fixed timestamps stand in for "all within one second"; ctime, which cannot be set, is
    # left out of git's comparison.
    _git(git_repo, "config", "core.trustctime", "false")
    _commit(git_repo, {"calc.py": "a - b\n"})
    calc, index = git_repo / "calc.py", git_repo / ".git" / "index"
    second = 1_700_000_000
    os.utime(calc, (second, second))
    _git(git_repo, "add", "calc.py")
    os.utime(index, (second, second))
    repo = Repository.find(git_repo)
    before = snapshot(repo.top, repo.index)
    with open(calc, "r+") as f:  # same file, same size, same mtime: only the content tells
        f.write("a + b\n")
    os.utime(calc, (second, second))
    after = snapshot(repo.top, repo.index)
    assert [(f.path, f.status) for f in changed_files(repo.top, before, after)] == [("calc.py", "modified")]


def test_patch_round_trip_with_modes_symlinks_and_deletions(git_repo: Path, tmp_path: Path) -> None:
    _commit(git_repo, {"keep.txt": "1\n2\n3\n", "gone.txt": "bye\n", "run.sh": "echo hi\n"})
    repo = Repository.find(git_repo)
    before = snapshot(repo.top, repo.index)
    (git_repo / "keep.txt").write_text("1\ntwo\n3\n")
    (git_repo / "gone.txt").unlink()
    (git_repo / "run.sh").chmod(0o755)
    os.symlink("keep.txt", git_repo / "link")
    (git_repo / "blob.bin").write_bytes(bytes(range(256)))
    after = snapshot(repo.top, repo.index)
    patch = diff(repo.top, before, after)
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(git_repo), str(clone)], check=True)
    apply(clone, patch)
    assert (clone / "keep.txt").read_text() == "1\ntwo\n3\n"
    assert not (clone / "gone.txt").exists()
    assert os.access(clone / "run.sh", os.X_OK)
    assert os.readlink(clone / "link") == "keep.txt"
    assert (clone / "blob.bin").read_bytes() == bytes(range(256))
    assert diff(repo.top, after, after) == b""


def test_worktree_holds_head_plus_uncommitted_work_and_is_removed(git_repo: Path) -> None:
    _commit(git_repo, {"a.txt": "a\n", "dir_was_file": "f\n", "gone.txt": "g\n", ".gitignore": "*.log\n"})
    (git_repo / "a.txt").write_text("changed\n")
    (git_repo / "gone.txt").unlink()
    (git_repo / "dir_was_file").unlink()
    (git_repo / "dir_was_file").mkdir()
    (git_repo / "dir_was_file" / "inside.txt").write_text("i\n")
    os.symlink("a.txt", git_repo / "link")
    (git_repo / "debug.log").write_text("ignored\n")
    (git_repo / "run.sh").write_text("echo\n")
    (git_repo / "run.sh").chmod(0o755)
    repo = Repository.find(git_repo)
    mine = snapshot(repo.top, repo.index)
    with TempWorktree(repo) as tree:
        top = tree.top
        assert (top / "a.txt").read_text() == "changed\n"
        assert not (top / "gone.txt").exists()
        assert (top / "dir_was_file" / "inside.txt").read_text() == "i\n"
        assert os.readlink(top / "link") == "a.txt"
        assert os.access(top / "run.sh", os.X_OK)
        assert not (top / "debug.log").exists()
        theirs = Repository.find(top)
        assert snapshot(top, theirs.index) == mine
        assert top.name == git_repo.name
    assert not top.exists() and not top.parent.exists()
    assert _git(git_repo, "worktree", "list", "--porcelain").count("worktree ") == 1
    assert _git(git_repo, "branch", "--list").strip() == "* main"


def test_worktree_is_removed_when_setting_it_up_fails(git_repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _commit(git_repo, {"a.txt": "a\n"})
    repo = Repository.find(git_repo)
    import glmcode.fix.worktree as worktree

    def broken(repo: Repository, dest: Path) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(worktree, "copy_uncommitted", broken)
    tree = TempWorktree(repo)
    with pytest.raises(KeyboardInterrupt):
        tree.__enter__()
    assert not tree.top.exists()
    assert _git(git_repo, "worktree", "list", "--porcelain").count("worktree ") == 1


def test_a_folder_outside_git_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    with pytest.raises(NotARepository, match="not inside a git repository"):
        Repository.find(tmp_path)


def test_a_repository_git_cannot_read_is_said_in_gits_words(git_repo: Path) -> None:
    with (git_repo / ".git" / "config").open("a") as config:
        config.write("[broken\n")
    with pytest.raises(GitError, match="bad config line") as caught:
        Repository.find(git_repo)
    assert not isinstance(caught.value, NotARepository)


def test_a_head_whose_commit_is_missing_is_no_empty_repository(git_repo: Path) -> None:
    subprocess.run(["git", "commit", "-q", "--allow-empty", "-m", "first"], cwd=git_repo, check=True)
    for folder in (git_repo / ".git" / "objects").glob("??"):
        for loose in folder.iterdir():
            loose.unlink()
    with pytest.raises(GitError, match="HEAD names commit [0-9a-f]{40}, which is missing"):
        Repository.find(git_repo)


def test_a_repository_without_commits_has_no_head(git_repo: Path) -> None:
    repo = Repository.find(git_repo)
    assert repo.head is None
    (git_repo / "first.txt").write_text("1\n")
    empty_tree = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
    after = snapshot(repo.top, repo.index)
    assert [f.path for f in changed_files(repo.top, empty_tree, after)] == ["first.txt"]


# The summary for people


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _report(status: str) -> FixReport:
    return FixReport(
        status, check="pytest", initial_check=CheckResult("pytest", 1, "", 0.4),
        attempts=[Attempt(1, "done", 3, CheckResult("pytest", 0, "", 0.5), 2.0, "ok")],
        files=[FileChange("src/[odd].py", "modified")], patch="fix.diff",
        usage=TokenUsage(12_000, 300, 9_000), cost_usd=0.0123, duration_s=3.2,
    )


def test_plain_summary_is_an_aligned_table() -> None:
    out = io.StringIO()
    print_summary(_report("fixed"), out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "fixed: the check passes after 1 attempt (exit 0)"
    header = next(line for line in lines if line.strip().startswith("attempt"))
    row = next(line for line in lines if line.strip().startswith("1 "))
    assert header.index("check") == row.index("passed") and header.index("turns") == row.index("3")
    assert "  files changed  src/[odd].py (modified)" in lines
    assert "  tokens         12,000 prompt (9,000 cached), 300 completion" in lines
    assert "  cost           $0.0123" in lines and "  patch          fix.diff" in lines


def test_terminal_summary_uses_rich_and_keeps_brackets() -> None:
    out = _Terminal()
    print_summary(_report("still_failing"), out)
    text = re.sub(r"\x1b\[[0-9;]*m", "", out.getvalue())
    assert "\x1b[" in out.getvalue()
    assert "the check still fails after 1 attempt (exit 3)" in text
    assert "src/[odd].py (modified)" in text and "failed (exit 1)" in text


def test_json_report_names_every_field() -> None:
    record = _report("fixed").to_dict()
    assert set(record) == {"type", "status", "exit_code", "message", "check", "initial_check", "attempts",
                           "files_changed", "patch", "applied", "worktree", "result", "usage", "cost_usd",
                           "duration_s", "session_id", "error"}
    assert record["attempts"][0]["check_exit_code"] == 0 and record["initial_check"]["passed"] is False
