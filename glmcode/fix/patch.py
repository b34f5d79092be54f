"""Snapshots of a work tree as git tree objects, and the patch between two of them.

A snapshot stages every file into a temporary index (GIT_INDEX_FILE), seeded from a copy
of the work tree's own index so unchanged files need not be hashed again; the real index is
only read. Ignored files, scratch files and bytecode caches are left out.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from glmcode.fix.repository import fix_git

SCRATCH_DIR = ".glmcode-scratch"
# Left out of every snapshot, wherever they sit: the agent's scratch folder, and the bytecode
# Python writes whenever the check or the agent runs it.
EXCLUDED = (f"**/{SCRATCH_DIR}/**", "**/__pycache__/**")

_STATUS = {"A": "added", "M": "modified", "D": "deleted", "T": "type changed"}


@dataclass(frozen=True)
class FileChange:
    path: str  # relative to the repository's top folder
    status: str  # added, modified, deleted, type changed


def snapshot(top: Path, index: Path) -> str:
    """The tree object id of everything in `top` a commit of all changes would hold."""
    with tempfile.TemporaryDirectory(prefix="glmcode-index-") as tmp:
        temp_index = Path(tmp) / "index"
        if index.is_file():
            # The copy keeps the index's mtime: git re-reads an entry whose file is as new as
            # the index itself. A fresh mtime would make a same-size edit made in the second
            # the index was written look unchanged, and leave it out of the patch.
            shutil.copy2(index, temp_index)
        pathspec = [":/", *(f":(top,glob,exclude){pattern}" for pattern in EXCLUDED)]
        git = fix_git(top, temp_index)
        git.run("add", "--all", "--", *pathspec)
        return git.text("write-tree")


def diff(top: Path, before: str, after: str) -> bytes:
    """A patch from tree `before` to tree `after` that `git apply` takes at the top folder."""
    return fix_git(top).run(
        "diff-tree", "-p", "--binary", "--full-index", "--no-renames", "--no-color", "--src-prefix=a/", "--dst-prefix=b/",
        before, after,
    )


def changed_files(top: Path, before: str, after: str) -> list[FileChange]:
    out = fix_git(top).run("diff-tree", "-r", "-z", "--no-renames", "--name-status", before, after)
    fields = [f.decode(errors="surrogateescape") for f in out.split(b"\0") if f]
    return [FileChange(path, _STATUS.get(code[:1], code)) for code, path in zip(fields[::2], fields[1::2])]


def apply(top: Path, patch: bytes) -> None:
    """Apply `patch` to the files under `top`, all or nothing, leaving the index alone."""
    if patch:
        fix_git(top).run("apply", "--whitespace=nowarn", "-", stdin=patch)
