"""Reads outside the workspace: the read tools may look anywhere the workspace and the added
folders reach; past them they ask (or are refused where nobody may be asked), and the folders
that hold credentials are refused in every mode unless a rule names them."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from glmcode.permissions.modes import Verdict
from glmcode.permissions.rules import Rule


def _holding(path: Path, folders: Sequence[Path]) -> Path | None:
    for folder in folders:
        if path == folder or path.is_relative_to(folder):
            return folder
    return None


def outside_read(
    tool: str,
    mode: str,
    paths: Sequence[Path],
    roots: Sequence[Path],
    secrets: Sequence[Path],
    rules: Sequence[Rule],
) -> Verdict | None:
    """The verdict on reading `paths` (resolved, symlinks followed), or None when the reads
    are inside `roots` or covered by a rule and the usual decision applies."""
    outside: list[Path] = []
    for path in paths:
        form = path.as_posix()
        secret = _holding(path, secrets)
        if secret is not None:
            # A rule for the whole tool does not name the folder; only a path pattern does.
            if not any(r.pattern is not None and r.matches(tool, form) for r in rules):
                return Verdict("deny", (
                    f"{tool} of {path} is refused: {secret} holds credentials, which glmcode "
                    f"never reads unless an allow rule names them (e.g. '{tool}:{secret}/**')"))
            continue
        if _holding(path, roots) is None and not any(r.matches(tool, form) for r in rules):
            outside.append(path)
    if not outside or mode == "full-auto":
        return None
    where = ", ".join(str(p) for p in outside)
    if mode == "read-only":
        return Verdict("deny", (
            f"{tool} of {where} is refused: it is outside the workspace and the added folders "
            "(read-only mode reads there only with an allow rule or --add-dir)"))
    return Verdict("ask", f"{tool} reads {where}, outside the workspace (--add-dir or an allow "
                   "rule lets it read there); it needs approval")
