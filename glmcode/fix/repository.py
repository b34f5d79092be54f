"""Running git for fix: plumbing where it exists, never a lock on the user's index.

`GIT_OPTIONAL_LOCKS=0` stops commands such as `status` from rewriting the index to refresh
stat data, and hooks are switched off so a worktree checkout runs nothing of the project's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from glmcode.vcs import GitError, GitFailed, NotARepository, Runner

__all__ = ["GitError", "NotARepository", "Repository", "fix_git", "nul_list"]


def fix_git(cwd: Path, index_file: Path | None = None) -> Runner:
    """git in `cwd` for fix; with `index_file`, staging goes there instead of the index."""
    env = {"GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0"}
    if index_file is not None:
        env["GIT_INDEX_FILE"] = str(index_file)
    return Runner(
        cwd,
        env,
        config=["core.hooksPath=/dev/null"],
        # An index named by the caller's environment (a git hook's) is not this work tree's.
        drop=["GIT_INDEX_FILE"],
        missing="git is not installed (glmcode fix needs it to build the patch)",
    )


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
        message = f"{folder} is not inside a git repository (glmcode fix needs one to build the patch)"
        # git's own search, not Repo(search_parent_directories=True): it honours
        # GIT_CEILING_DIRECTORIES and safe.directory as the user's git does.
        try:
            top = Path(fix_git(folder).text("rev-parse", "--show-toplevel")).resolve()
        except GitFailed as exc:
            # Only git's own "not a git repository" means that; a bad config line or a
            # repository of another owner is said in git's words.
            if "not a git repository" in exc.stderr:
                raise NotARepository(message) from exc
            raise GitError(f"git cannot read the repository of {folder}: {exc.stderr or exc}") from exc
        repo = fix_git(top).repo()
        try:
            head = repo.head.commit.hexsha if repo.head.is_valid() else _unborn_or_broken(top)
            index = Path(repo.git_dir) / "index"
            common_dir = Path(repo.common_dir).resolve()
        finally:
            repo.close()
        return cls(top, index, common_dir, head, folder.resolve().relative_to(top))


def _unborn_or_broken(top: Path) -> None:
    """None for a branch with no commit yet; a HEAD naming a commit the repository lacks is
    an error, not a repository with nothing in it."""
    try:
        named = fix_git(top).text("rev-parse", "-q", "--verify", "HEAD")
    except GitFailed:
        return None
    raise GitError(f"HEAD names commit {named}, which is missing from the repository at {top}; `git fsck` tells more")
