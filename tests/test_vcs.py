"""vcs/: git through GitPython, imported only when git work starts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import run_glmcode

from glmcode.vcs import GitFailed, NotARepository, Runner


def _imported(stderr: str) -> set[str]:
    """Module names from `-X importtime` output."""
    return {line.rsplit("|", 1)[-1].strip() for line in stderr.splitlines() if line.startswith("import time:")}


def _gitpython(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m == "git" or m.startswith(("git.", "gitdb")))


def test_a_trivial_exec_turn_never_imports_gitpython(fake_glm, git_repo: Path) -> None:
    # In a repository, so the system prompt's repository facts are read too.
    (git_repo / "main.py").write_text("print('hi')\n")
    fake = fake_glm([{"content": "ok"}])
    env = {"ZAI_API_KEY": "k", "GLMCODE_BASE_URL": fake.base_url, "PYTHONPROFILEIMPORTTIME": "1"}
    proc = run_glmcode(["exec", "hi"], git_repo, env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    modules = _imported(proc.stderr)
    assert "glmcode.agent.context" in modules  # the timing output is there to be read
    assert _gitpython(modules) == []


def test_version_never_imports_gitpython(tmp_path: Path) -> None:
    proc = run_glmcode(["--version"], tmp_path, {"PYTHONPROFILEIMPORTTIME": "1"})
    assert proc.returncode == 0
    modules = _imported(proc.stderr)
    assert "glmcode" in modules and _gitpython(modules) == []


def test_a_failed_command_says_what_git_said(git_repo: Path) -> None:
    with pytest.raises(GitFailed, match="^git rev-parse failed: fatal: Needed a single revision$"):
        Runner(git_repo).run("rev-parse", "--verify", "nothing")


def test_a_folder_that_is_no_repository(tmp_path: Path) -> None:
    with pytest.raises(NotARepository, match="is not inside a git repository"):
        Runner(tmp_path).repo()


def test_without_git_the_message_is_the_callers(tmp_path: Path) -> None:
    code = (
        "from pathlib import Path; from glmcode.vcs import GitError, Runner\n"
        "try: Runner(Path('.'), missing='no git here').run('status')\n"
        "except GitError as exc: print(exc)\n"
    )
    env = {"PATH": str(tmp_path / "no-bin"), "HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert out.stdout == "no git here\n", out.stderr


def test_no_git_process_sees_the_api_key(git_repo: Path, tmp_path: Path) -> None:
    # A `git` ahead of the real one on PATH writes down each environment it is started with:
    # GitPython's `git version` on import and the object database's `cat-file` included.
    real = subprocess.run(["sh", "-c", "command -v git"], capture_output=True, text=True).stdout.strip()
    spy = tmp_path / "bin" / "git"
    spy.parent.mkdir()
    seen = tmp_path / "seen"
    spy.write_text(f'#!/bin/sh\necho "$* :: $ZAI_API_KEY$GLMCODE_API_KEY" >> {seen}\nexec {real} "$@"\n')
    spy.chmod(0o755)
    (git_repo / "a.txt").write_text("a\n")
    subprocess.run(["git", "add", "a.txt"], cwd=git_repo, check=True)
    subprocess.run(["git", "commit", "-qm", "a"], cwd=git_repo, check=True)
    code = (
        "from pathlib import Path; from glmcode.vcs import Runner\n"
        "repo = Runner(Path('.')).repo()\n"
        "print(repo.head.commit.tree['a.txt'].data_stream.read().decode(), end='')\n"
        "repo.close()\n"
    )
    env = {**os.environ, "PATH": f"{spy.parent}:{os.environ['PATH']}", "ZAI_API_KEY": "sk-zai", "GLMCODE_API_KEY": "sk-glm"}
    out = subprocess.run([sys.executable, "-c", code], cwd=git_repo, env=env, capture_output=True, text=True)
    assert out.stdout == "a\n", out.stderr
    runs = seen.read_text().splitlines()
    assert any(r.startswith("version") for r in runs) and any(r.startswith("cat-file") for r in runs), runs
    assert not [r for r in runs if "sk-" in r]
