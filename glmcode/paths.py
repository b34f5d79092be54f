"""Where glmcode keeps its files: XDG-aware, and every location computed from an explicit
environment so that tests can point it at temporary folders instead of the real home."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from pathlib import Path

APP = "glmcode"
PROJECT_DIR = ".glmcode"
CONFIG_NAME = "config.toml"
ROOT_MARKERS = (".git", PROJECT_DIR)


def _env(env: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if env is None else env


def home_dir(env: Mapping[str, str] | None = None) -> Path:
    home = _env(env).get("HOME")
    return Path(home) if home else Path.home()


def _xdg(env: Mapping[str, str] | None, var: str, fallback: tuple[str, ...]) -> Path:
    value = _env(env).get(var, "")
    # The XDG spec says relative values are invalid and must be ignored.
    if value and Path(value).is_absolute():
        return Path(value) / APP
    return home_dir(env).joinpath(*fallback, APP)


def config_dir(env: Mapping[str, str] | None = None) -> Path:
    return _xdg(env, "XDG_CONFIG_HOME", (".config",))


def state_dir(env: Mapping[str, str] | None = None) -> Path:
    return _xdg(env, "XDG_STATE_HOME", (".local", "state"))


def user_config_file(env: Mapping[str, str] | None = None) -> Path:
    return config_dir(env) / CONFIG_NAME


def project_mcp_json(root: Path) -> Path:
    """The project's MCP servers in the format other agents and editors write."""
    return Path(root) / ".mcp.json"


def project_config_file(root: Path) -> Path:
    return Path(root) / PROJECT_DIR / CONFIG_NAME


def trust_file(env: Mapping[str, str] | None = None) -> Path:
    return state_dir(env) / "trusted.json"


def checkpoints_dir(env: Mapping[str, str] | None = None) -> Path:
    return state_dir(env) / "checkpoints"


def project_key(project_root: Path) -> str:
    """A folder name a person can recognise, made unique by a short hash of the absolute path
    (two checkouts both called `app` must not share sessions)."""
    absolute = Path(project_root).expanduser().resolve()
    readable = re.sub(r"[^A-Za-z0-9._-]+", "-", absolute.name).strip("-.") or "root"
    digest = hashlib.sha256(str(absolute).encode("utf-8", "surrogateescape")).hexdigest()[:10]
    return f"{readable[:40]}-{digest}"


def sessions_dir(env: Mapping[str, str] | None, project_root: Path) -> Path:
    return state_dir(env) / "sessions" / project_key(project_root)


def find_project_root(cwd: Path) -> Path:
    """The nearest folder, from `cwd` up, holding `.git` (a folder, or a file in worktrees and
    submodules) or `.glmcode`; `cwd` itself when there is none."""
    start = Path(cwd).expanduser().resolve()
    for folder in (start, *start.parents):
        if any((folder / marker).exists() for marker in ROOT_MARKERS):
            return folder
    return start
