"""Running git for fix: plumbing where it exists, never a lock on the user's index.

`GIT_OPTIONAL_LOCKS=0` stops commands such as `status` from rewriting the index to refresh
stat data, and hooks are switched off so a worktree checkout runs nothing of the project's.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from glmcode.tools.processes import child_env


class GitError(Exception):
    """A git command failed; the message holds git's own words."""


class NotARepository(GitError):
    """The folder is not inside a git work tree."""


def git(
    args: list[str],
    cwd: Path,
    *,
    index_file: Path | None = None,
    input: bytes | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[bytes]:
    # Repository configuration can make git run commands (filters, fsmonitor): they get the
    # same environment as any other command glmcode starts, without the API key.
    env = child_env({"GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0"})
    env.pop("GIT_INDEX_FILE", None)
    if index_file is not None:
        env["GIT_INDEX_FILE"] = str(index_file)
    cmd = ["git", "-c", "core.hooksPath=/dev/null", *args]
    try:
        proc = subprocess.run(cmd, cwd=cwd, env=env, input=input, capture_output=True)
    except FileNotFoundError as exc:
        raise GitError("git is not installed (glmcode fix needs it to build the patch)") from exc
    if check and proc.returncode != 0:
        message = proc.stderr.decode(errors="replace").strip() or f"exit {proc.returncode}"
        raise GitError(f"git {args[0]} failed: {message}")
    return proc


def git_text(args: list[str], cwd: Path, **kwargs: object) -> str:
    return git(args, cwd, **kwargs).stdout.decode(errors="surrogateescape").strip()  # type: ignore[arg-type]


def nul_list(data: bytes) -> list[str]:
    """Paths from git's `-z` output."""
    return [p.decode(errors="surrogateescape") for p in data.split(b"\0") if p]


@dataclass(frozen=True)
class Repository:
    """Where a folder sits in its repository."""

    top: Path  # the work tree's top folder
    index: Path  # this work tree's index file (which may not exist yet)
    common_dir: Path  # the .git folder shared by all work trees
    head: str | None  # the commit checked out, None before the first commit
    subdir: Path  # the folder, relative to `top`

    @classmethod
    def find(cls, folder: Path) -> Repository:
        proc = git(["rev-parse", "--show-toplevel"], folder, check=False)
        if proc.returncode != 0:
            raise NotARepository(f"{folder} is not inside a git repository (glmcode fix needs one to build the patch)")
        top = Path(proc.stdout.decode(errors="surrogateescape").strip()).resolve()
        paths = git_text(["rev-parse", "--git-path", "index", "--git-common-dir"], top).splitlines()
        index, common = (Path(p) if Path(p).is_absolute() else top / p for p in paths)
        head_proc = git(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], top, check=False)
        head = head_proc.stdout.decode().strip() if head_proc.returncode == 0 else None
        return cls(top, index, common.resolve(), head, folder.resolve().relative_to(top))
