"""`glmcode sessions`, `glmcode resume [ID]` and `glmcode --continue`: finding the session to
go on with, from the command line."""

from __future__ import annotations

import os
import sys
from typing import Any

NO_SESSIONS = "glmcode: there are no sessions in this project yet; `glmcode` starts one\n"


def _sessions(cd: str | None) -> list[Any] | None:
    """The project's sessions, the latest first; None (said on stderr) when `cd` is no folder."""
    from glmcode.agent.sessions_store import list_sessions
    from glmcode.paths import find_project_root, sessions_dir
    from glmcode.ui.startup import StartupError, working_folder

    try:
        cwd = working_folder(cd)
    except StartupError as exc:
        sys.stderr.write(f"glmcode: {exc}\n")
        return None
    return list_sessions(sessions_dir(os.environ, find_project_root(cwd)))


def sessions_command(cd: str | None) -> int:
    """Lists this project's sessions, the latest first."""
    from glmcode.agent.sessions_store import format_sessions

    sessions = _sessions(cd)
    if sessions is None:
        return 2
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
    from glmcode.agent.sessions_store import SessionNotFound, find_session, format_sessions

    sessions = _sessions(cd)
    if sessions is None:
        return 2
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

