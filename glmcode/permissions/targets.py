"""What a tool call acts on, as permission rules see it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

SHELL_TOOL = "run_shell"

_PATCH_PATH = re.compile(r"^\*\*\* (?:Add File|Update File|Delete File|Move to): (.+?)\s*$",
                         re.MULTILINE)


def call_paths(tool_name: str, args: Mapping[str, Any]) -> list[str]:
    if tool_name == "apply_patch":
        patch = args.get("patch")
        return _PATCH_PATH.findall(patch) if isinstance(patch, str) else []
    path = args.get("path")
    return [path] if isinstance(path, str) and path else []


def call_target(tool_name: str, args: Mapping[str, Any]) -> str | None:
    """What a call acts on, as rules see it: the command for run_shell, the path for file
    tools (the paths, comma-separated, for apply_patch), None otherwise."""
    if tool_name == SHELL_TOOL:
        command = args.get("command")
        return command if isinstance(command, str) else None
    paths = call_paths(tool_name, args)
    return ", ".join(paths) if paths else None
