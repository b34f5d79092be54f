"""`glmcode sessions`, `glmcode resume [ID]` and `glmcode --continue`: finding the session to
go on with, from the command line."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

NO_SESSIONS = "glmcode: there are no sessions in this project yet; `glmcode` starts one\n"


def _folder(cd: str | None) -> Path | None:
    from glmcode.paths import find_project_root, sessions_dir

    cwd = Path(cd).expanduser() if cd else Path.cwd()
    if not cwd.is_dir():
        sys.stderr.write(f"glmcode: {cwd} is not a folder\n")
        return None
    return sessions_dir(os.environ, find_project_root(cwd.resolve()))


def sessions_command(cd: str | None) -> int:
    """Lists this project's sessions, the latest first."""
    from glmcode.agent.sessions_store import format_sessions, list_sessions

    folder = _folder(cd)
    if folder is None:
        return 2
    sessions = list_sessions(folder)
    if not sessions:
        sys.stderr.write(NO_SESSIONS)
        return 0
    out = sys.stdout
    for line in format_sessions(sessions):
        out.write(line + "\n")
    out.write("\nglmcode resume N (or an id, or the start of one) continues a session; glmcode -c the latest.\n")
    return 0


def resume_command(
    ref: str | None, flags: dict[str, Any], *, cd: str | None, latest: bool = False, prompt: str | None = None
) -> int:
    """Opens the interactive session on an earlier session: `ref` names it; without one, the
    latest (`latest`) or the one the user picks from the list. `prompt` is sent first."""
    from glmcode.agent.sessions_store import SessionNotFound, find_session, format_sessions, list_sessions

    folder = _folder(cd)
    if folder is None:
        return 2
    sessions = list_sessions(folder)
    if not sessions:
        sys.stderr.write(NO_SESSIONS)
        return 1
    if ref is None and not latest:
        for line in format_sessions(sessions):
            sys.stdout.write(line + "\n")
        sys.stdout.write("Resume which? (number or id, Enter to cancel) ")
        sys.stdout.flush()
        ref = sys.stdin.readline().strip()
        if not ref:
            return 0
    try:
        chosen = sessions[0] if ref is None else find_session(sessions, ref)
    except SessionNotFound as exc:
        sys.stderr.write(f"glmcode: {exc}\n")
        return 2
    from glmcode.ui.tui.app import interactive_command

    return interactive_command(prompt, flags, cd=cd, resume=chosen.id)


def find_for_exec(ref: str, project_root: Path) -> Any:
    """The session `exec --resume` continues, read back; SessionNotFound names what exists."""
    from glmcode.agent.sessions_store import find_session, list_sessions, replay
    from glmcode.paths import sessions_dir

    return replay(find_session(list_sessions(sessions_dir(os.environ, project_root)), ref).path)
