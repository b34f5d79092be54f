"""A temporary git worktree holding HEAD plus the user's uncommitted work.

The user's files, index and stash are only ever read. The worktree is detached (no branch
to clean up), and `remove` deletes both its folder and its entry under .git/worktrees.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

from glmcode.fix.repository import GitError, Repository, fix_git, nul_list


class TempWorktree:
    def __init__(self, repo: Repository) -> None:
        if repo.head is None:
            raise GitError("--worktree needs a commit to start from; this repository has none yet")
        self.repo = repo
        self._parent = Path(tempfile.mkdtemp(prefix="glmcode-fix-"))
        self.top = self._parent / repo.top.name
        self._added = False

    def __enter__(self) -> TempWorktree:
        try:
            fix_git(self.repo.top).run("worktree", "add", "--detach", "--quiet", str(self.top), self.repo.head or "HEAD")
            self._added = True
            copy_uncommitted(self.repo, self.top)
        except BaseException:
            self.remove()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()

    def remove(self) -> None:
        git = fix_git(self.repo.top)
        # Best effort, on the way out of whatever happened: the folder goes in any case, and
        # `prune` drops the entry of a worktree whose folder is gone.
        if self._added:
            with contextlib.suppress(GitError):
                git.run("worktree", "remove", "--force", "--force", str(self.top))
            self._added = False
        shutil.rmtree(self._parent, ignore_errors=True)
        with contextlib.suppress(GitError):
            git.run("worktree", "prune")


def copy_uncommitted(repo: Repository, dest: Path) -> None:
    """Make `dest` (a checkout of HEAD) hold what the user's files hold now: tracked files
    changed, added or deleted since HEAD, and untracked files that are not ignored."""
    git = fix_git(repo.top)
    changed = nul_list(git.run("diff-index", "-z", "--name-only", "--no-renames", "HEAD", "--"))
    untracked = nul_list(git.run("ls-files", "-z", "--others", "--exclude-standard"))
    paths = sorted(set(changed) | {p for p in untracked if not p.endswith("/")})
    present = [p for p in paths if os.path.lexists(repo.top / p)]
    for path in paths:
        if path not in present:
            _remove(dest / path)
    for path in present:
        _copy(repo.top, dest, Path(path))


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)


def _copy(src_top: Path, dst_top: Path, rel: Path) -> None:
    src, dst = src_top / rel, dst_top / rel
    if src.is_dir() and not src.is_symlink():
        return  # a nested repository or submodule: not part of this tree's files
    for parent in reversed(rel.parents[:-1]):
        # a file in HEAD may have become a folder in the user's tree
        if (dst_top / parent).is_symlink() or (dst_top / parent).is_file():
            (dst_top / parent).unlink()
    dst.parent.mkdir(parents=True, exist_ok=True)
    _remove(dst)
    if src.is_symlink():
        os.symlink(os.readlink(src), dst)
    else:
        shutil.copy2(src, dst)
