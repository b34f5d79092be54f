"""write_file: create or replace a whole file, atomically, keeping its mode and conventions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from glmcode.text import count
from glmcode.tools.base import Param, Tool, ToolContext, ToolError, ToolResult, description_beside
from glmcode.tools.changes import FileChange, apply_changes, unified_diff
from glmcode.tools.files import SNIFF_BYTES, TextFile, binary_kind, read_bytes, split_lines


def plan(args: dict[str, Any], ctx: ToolContext) -> FileChange:
    path = ctx.writable(args["path"])
    if path.is_dir():
        raise ToolError(f"{ctx.display(path)} is a folder; give the path of a file inside it")
    old = read_bytes(path, ctx) if path.exists() else None
    return FileChange(path, old, _encode(args["content"], path, old))


def _encode(content: str, path: Path, old: bytes | None) -> bytes:
    """The content in the replaced file's conventions: a CRLF file stays CRLF, a BOM stays,
    a Latin-1 file stays Latin-1 as long as the content fits in it."""
    if old is None or binary_kind(path, old[:SNIFF_BYTES]) is not None:
        return content.encode("utf-8")
    before = TextFile.decode(old)
    text = content.replace("\r\n", "\n") if before.newline == "\r\n" else content
    after = TextFile(text, before.encoding, before.newline, text.endswith("\n"))
    try:
        return after.encode()
    except ToolError:
        return content.encode("utf-8")


def _conventions(data: bytes) -> str:
    kept = []
    before = TextFile.decode(data)
    if before.newline == "\r\n":
        kept.append("CRLF line endings")
    if before.encoding == "utf-8-sig":
        kept.append("UTF-8 BOM")
    if before.encoding == "latin-1":
        kept.append("Latin-1 encoding")
    return f"; kept its {' and '.join(kept)}" if kept else ""


def run(args: dict[str, Any], ctx: ToolContext) -> ToolResult:
    change = plan(args, ctx)
    shown = ctx.display(change.path)
    lines = len(split_lines(args["content"]))
    data = {"path": shown, "created": change.old is None, "lines": lines}
    if change.old == change.new:
        return ToolResult(f"{shown} already has this content; nothing changed.", data=data)
    diff = unified_diff([change], ctx)
    apply_changes([change], ctx.editor)
    if change.old is None:
        return ToolResult(f"Created {shown} ({count(lines, 'line')}).", diff=diff, data=data)
    before = len(TextFile.decode(change.old).lines())
    kept = _conventions(change.new or b"")
    output = f"Overwrote {shown} ({count(lines, 'line')}, was {before}{kept})."
    return ToolResult(output, diff=diff, data=data)


def preview(args: dict[str, Any], ctx: ToolContext) -> str:
    return unified_diff([plan(args, ctx)], ctx)


TOOL = Tool(
    name="write_file",
    description=description_beside(__file__, "write_file"),
    params=(
        Param("path", "string", "File to write, relative to the workspace or absolute."),
        Param("content", "string", "The complete new content of the file."),
    ),
    kind="edit",
    run=run,
    preview=preview,
)
