"""Putting a snapshot's files back into the workspace, byte for byte, with their exec bit.

The shadow repository's git reads the snapshot (checkpoints); this writes what it read, so a
restore never goes through git's checkout and its line-ending or filter settings.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

_SYMLINK = 0o120000


class CheckpointError(Exception):
    """A snapshot or a restore could not be made; the message says why."""


def read_batch(out: bytes, shas: list[str], names: dict[str, str]) -> dict[str, bytes]:
    """The blobs in `git cat-file --batch` output for `shas`, asked in that order. A blob that
    is missing was in the user's object store, borrowed, and pruned since (`names` says for
    which file)."""
    blobs: dict[str, bytes] = {}
    pos = 0
    for sha in shas:
        end = out.index(b"\n", pos)
        header = out[pos:end].split()
        if len(header) < 3:
            raise CheckpointError(
                f"the snapshot's copy of {names.get(sha, sha)} is gone: it was kept in this "
                "repository's .git, and git has since removed it (git gc, say)"
            )
        size = int(header[2])
        blobs[sha] = out[end + 1 : end + 1 + size]
        pos = end + 1 + size + 1
    return blobs


def prune_folders(workspace: Path, deleted: list[str], listing: list[str]) -> None:
    """Folders left empty by deleting files the snapshot did not have go too, unless the
    snapshot (whose paths are `listing`) had something in them."""
    kept = set()
    for path in listing:
        parts = path.split("/")[:-1]
        kept.update("/".join(parts[: n + 1]) for n in range(len(parts)))
    for path in deleted:
        parts = path.split("/")[:-1]
        for n in range(len(parts), 0, -1):
            folder = "/".join(parts[:n])
            if folder in kept:
                break
            try:
                (workspace / folder).rmdir()
            except OSError:
                break


def z_paths(paths: list[str]) -> bytes:
    return b"".join(p.encode("utf-8", "surrogateescape") + b"\0" for p in paths)


def write_file(target: Path, data: bytes, mode: int, shown: str) -> None:
    """Puts `data` at `target` as a file (or symlink) of git `mode`; `shown` names it in errors."""
    from glmcode.atomic import write_atomic

    if target.is_dir() and not target.is_symlink():
        try:
            target.rmdir()
        except OSError:
            raise CheckpointError(
                f"{shown} is a folder now, holding files the snapshot does not have; move them away and try again"
            ) from None
    target.parent.mkdir(parents=True, exist_ok=True)
    if stat.S_IFMT(mode) == _SYMLINK:
        if target.is_symlink() or target.exists():
            target.unlink()
        os.symlink(os.fsdecode(data), target)
        return
    if target.is_symlink():
        target.unlink()  # write_atomic would write through the link
    executable = bool(mode & 0o111)
    try:
        current = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        write_atomic(target, data)
        if executable:
            current = stat.S_IMODE(target.stat().st_mode)
            os.chmod(target, current | (current & 0o444) >> 2)
        return
    if executable and not current & 0o111:
        current |= (current & 0o444) >> 2
    elif not executable:
        current &= ~0o111
    write_atomic(target, data, current)
