"""The glob tool: files whose paths match a pattern, newest first. ripgrep lists the files
.gitignore leaves visible (a Python walk does when no rg binary is found); the pattern is
matched here, so both ways give the same answer."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from glmcode.tools.base import Param, Tool, ToolContext, ToolError, ToolResult, description_beside

MAX_FILES = 200


def run(args: dict[str, Any], ctx: ToolContext) -> ToolResult:
    # Imported by the first listing, not by every start: the first request needs only the schema.
    from glmcode.tools.ignore import GlobFilter

    try:
        glob_filter = GlobFilter.parse(args["pattern"])
    except ValueError as exc:
        raise ToolError(f"glob: {exc}") from exc
    root = ctx.resolve(args["path"] or ".")
    if not root.is_dir():
        state = "is a file" if root.exists() else "does not exist"
        raise ToolError(f"glob: {args['path']} {state}; give a folder")
    found = []
    for path in visible_files(root, glob_filter.names_hidden, ctx.cancel):
        if glob_filter.matches(path.relative_to(root).as_posix()):
            try:
                found.append((path.stat().st_mtime, ctx.display(path)))
            except OSError:
                continue
    if not found:
        where = "the workspace" if root == ctx.workspace.resolve() else ctx.display(root)
        text = f"No files match {args['pattern']!r} in {where}."
        return ToolResult(output=text, data={"files": 0})
    found.sort(key=lambda f: (-f[0], f[1]))
    lines = [name for _, name in found[:MAX_FILES]]
    if len(found) > MAX_FILES:
        lines.append(
            f"[{MAX_FILES} of {len(found)} files shown, newest first. Narrow the pattern or "
            "give a path.]"
        )
    return ToolResult(output="\n".join(lines), data={"files": len(found)})


def visible_files(root: Path, include_hidden: bool, cancel: threading.Event) -> list[Path]:
    """The files under `root` that .gitignore does not hide, from ripgrep when it runs."""
    from glmcode.tools.ignore import walk_files
    from glmcode.tools.rg import RgUnavailable, find_rg, list_files

    rg = find_rg()
    if rg is not None:
        try:
            return list_files(rg, root, include_hidden, cancel)
        except RgUnavailable:
            pass
    files = []
    for path in walk_files(root, include_hidden):
        if cancel.is_set():
            raise ToolError("glob: cancelled by the user")
        files.append(path)
    return files


TOOL = Tool(
    name="glob",
    description=description_beside(__file__, "glob"),
    params=(
        Param("pattern", "string", "Glob to match, e.g. **/*.py or src/*.ts."),
        Param("path", "string", "Folder to search in; the workspace by default.", required=False),
    ),
    kind="read",
    run=run,
)
