"""After a crash: what an interrupted edit left in the workspace.

Edit tools write through a temporary file beside the target (`.<name>.<8 hex>.glmcode-tmp`,
see tools/files.write_atomic) and rename it over the target, so a process killed mid-write
leaves the target whole, old or new, and maybe that temporary file. When a session is resumed,
the temporary files of the calls that never finished are removed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

_PATCH_PATHS = re.compile(r"^\*\*\* (?:Add File|Update File|Delete File|Move to): (.+?)\s*$", re.MULTILINE)


def interrupted_targets(messages: list[dict[str, Any]], repairs: list[dict[str, Any]]) -> list[str]:
    """The paths the unfinished calls (those `repairs` answer) were writing."""
    unfinished = {r.get("tool_call_id") for r in repairs}
    paths: list[str] = []
    for message in messages:
        for call in message.get("tool_calls") or ():
            if call.get("id") not in unfinished:
                continue
            try:
                args = json.loads((call.get("function") or {}).get("arguments") or "{}")
            except ValueError:
                continue
            if not isinstance(args, dict):
                continue
            if isinstance(args.get("path"), str):
                paths.append(args["path"])
            if isinstance(args.get("patch"), str):
                paths.extend(_PATCH_PATHS.findall(args["patch"]))
    return paths


def remove_unfinished_writes(messages: list[dict[str, Any]], repairs: list[dict[str, Any]], workspace: Path) -> list[str]:
    """Removes the temporary files of interrupted writes; their paths, relative to `workspace`."""
    removed = []
    root = workspace.resolve()
    for target in interrupted_targets(messages, repairs):
        path = (root / target).resolve() if not Path(target).is_absolute() else Path(target)
        if not path.is_relative_to(root) or not path.parent.is_dir():
            continue
        pattern = re.compile(rf"\.{re.escape(path.name[:100])}\.[0-9a-f]{{8}}\.glmcode-tmp")
        for leftover in path.parent.iterdir():
            if pattern.fullmatch(leftover.name) and leftover.is_file():
                leftover.unlink()
                removed.append(leftover.relative_to(root).as_posix())
    return removed
