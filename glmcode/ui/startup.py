"""What every command that talks to the model does first: find the folder, load the settings,
insist on a key, and find the session to go on with. Each failure is the user's to mend, so it
is a StartupError with a one-line message (exit code 2), never a traceback."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from glmcode.agent.sessions_store import Replay
    from glmcode.config.settings import Settings
    from glmcode.hooks.config import HookConfig


class StartupError(Exception):
    """Bad usage or configuration: the message says what to change."""


@dataclass(frozen=True)
class Start:
    cwd: Path
    settings: Settings
    resume: Replay | None
    hooks: HookConfig | None = None  # None: not read yet


def working_folder(cd: str | None) -> Path:
    cwd = Path(cd).expanduser() if cd else Path.cwd()
    if not cwd.is_dir():
        raise StartupError(f"{cwd} is not a folder")
    return cwd.resolve()


def start(
    flags: dict[str, Any],
    cd: str | None,
    *,
    resume: str | None = None,
    default_mode: str | None = None,
) -> Start:
    """`default_mode`: the permission mode when neither a flag nor a config file chose one
    (exec works in auto-edit, where nobody can answer a question)."""
    from glmcode.config.errors import ConfigError
    from glmcode.config.files import ConfigFiles
    from glmcode.config.layers import load_settings
    from glmcode.config.settings import require_api_key
    from glmcode.hooks.config import load_hooks

    cwd = working_folder(cd)
    try:
        files = ConfigFiles()  # read once for the settings and the hooks
        settings = load_settings(cwd, os.environ, flags, files)
        if default_mode and settings.sources.get("permission_mode") == "default":
            settings = replace(settings, permission_mode=default_mode)
        require_api_key(settings)
        hooks = load_hooks(settings.project_root, os.environ, files)
    except ConfigError as exc:
        raise StartupError(str(exc)) from None
    earlier = None
    if resume is not None:
        from glmcode.agent.sessions_store import SessionNotFound

        try:
            earlier = _earlier_session(resume, settings.project_root)
        except SessionNotFound as exc:
            raise StartupError(str(exc)) from None
    return Start(cwd, settings, earlier, hooks)


def _earlier_session(ref: str, project_root: Path) -> Replay:
    """The session `exec --resume` continues, read back; SessionNotFound names what exists."""
    from glmcode.agent.sessions_store import find_session, list_sessions, replay
    from glmcode.paths import sessions_dir

    return replay(find_session(list_sessions(sessions_dir(os.environ, project_root)), ref).path)
