"""Writing a file so that a reader, or glmcode after a crash, finds the old content or the new,
never half: every file glmcode writes for the user or for itself goes through here."""

from __future__ import annotations

import os
import stat
from pathlib import Path


def write_atomic(path: Path, data: bytes, mode: int | None = None) -> None:
    """Write through a temporary file in the same folder, fsync, then rename over `path`, so a
    reader sees the old content or the new one, never half. The file keeps `mode` (by default
    its current mode); a new file gets the usual mode for the umask."""
    if path.is_symlink():
        path = path.resolve()  # write the target and keep the link
    if mode is None:
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            pass
    tmp = path.parent / f".{path.name[:100]}.{os.urandom(4).hex()}.glmcode-tmp"
    # Creating with 0o666 lets the kernel apply the umask, as for any new file.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems cannot sync a folder; the rename is done either way
    finally:
        os.close(fd)
