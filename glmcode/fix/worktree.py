"""A temporary git worktree holding HEAD plus the user's uncommitted work.

The user's files, index and stash are only ever read. The worktree is detached (no branch
to clean up), and `remove` deletes both its folder and its entry under .git/worktrees.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from glmcode.fix.git import GitError, Repository, git, nul_list


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
            git(["worktree", "add", "--detach", "--quiet", str(self.top), self.repo.head or "HEAD"], self.repo.top)
            self._added = True
            copy_uncommitted(self.repo, self.top)
        except BaseException:
            self.remove()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()

    def remove(self) -> None:
        if self._added:
            git(["worktree", "remove", "--force", "--force", str(self.top)], self.repo.top, check=False)
            self._added = False
        shutil.rmtree(self._parent, ignore_errors=True)
        git(["worktree", "prune"], self.repo.top, check=False)


def copy_uncommitted(repo: Repository, dest: Path) -> None:
    """Make `dest` (a checkout of HEAD) hold what the user's files hold now: tracked files
    changed, added or deleted since HEAD, and untracked files that are not ignored."""
    changed = nul_list(git(["diff-index", "-z", "--name-only", "--no-renames", "HEAD", "--"], repo.top).stdout)
    untracked = nul_list(git(["ls-files", "-z", "--others", "--exclude-standard"], repo.top).stdout)
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
