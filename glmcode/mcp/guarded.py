"""What glmcode runs for a stdio server: on Linux, the server behind glmcode/mcp/guard.py, which
ends it with its processes if glmcode is killed; elsewhere the server itself."""

from __future__ import annotations

import errno
import os
import shutil
import sys
from pathlib import Path

from glmcode.mcp.launch import Launch

_GUARD = Path(__file__).with_name("guard.py")


def stdio_command(launch: Launch) -> tuple[str, list[str]]:
    """The command and arguments to start the server with. Raises FileNotFoundError or
    PermissionError, as starting it directly would, when its command cannot be run: behind the
    guard, the failure would otherwise only be the guard's exit."""
    if not sys.platform.startswith("linux") or not sys.executable or not _GUARD.is_file():
        return launch.command, list(launch.args)
    program = _program(launch.command, (launch.env or {}).get("PATH", os.environ.get("PATH")), launch.cwd)
    # -I -S: the guard needs no site-packages, and neither glmcode's nor the server's
    # environment variables may change how it starts.
    guard = ["-I", "-S", str(_GUARD), str(os.getpid()), program, launch.command, *launch.args]
    return sys.executable, guard


def _program(command: str, path: str | None, cwd: str | None) -> str:
    """Where `command` is, found as exec would find it from the server's folder and PATH."""
    if os.sep in command:
        found = os.path.join(cwd or "", command)
        if not os.path.exists(found):
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), command)
        if os.path.isdir(found) or not os.access(found, os.X_OK):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), command)
        return found
    folders = (path if path is not None else os.defpath).split(os.pathsep)
    search = os.pathsep.join(os.path.join(cwd or "", folder) for folder in folders)
    found_at = shutil.which(command, path=search)
    if found_at is not None:
        return found_at
    if shutil.which(command, mode=os.F_OK, path=search) is not None:
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), command)
    raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), command)
