"""read_file: a text file as numbered lines, one page at a time; a folder as its entries."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

from glmcode.text import count
from glmcode.tools.base import Param, Tool, ToolContext, ToolError, ToolResult, description_beside
from glmcode.tools.files import (
    BOM,
    SNIFF_BYTES,
    binary_kind,
    human_size,
    not_found,
    number_lines,
    refuse_special,
    through_editor,
)

DEFAULT_LIMIT = 2000
MAX_LINE_CHARS = 2000
# A page stops early rather than flood the context with thousands of very long lines.
MAX_PAGE_CHARS = 100_000
MAX_ENTRIES = 500


def run(args: dict[str, Any], ctx: ToolContext) -> ToolResult:
    path = ctx.resolve(args["path"])
    offset = args.get("offset") or 1
    limit = args.get("limit") or DEFAULT_LIMIT
    if offset < 1 or limit < 1:
        raise ToolError("offset and limit must be at least 1")
    if path.is_dir():
        return _list_folder(path, ctx)
    if not path.exists():
        raise ToolError(not_found(path, ctx))
    refuse_special(path, ctx)
    return _read_page(path, ctx, offset, limit)


def _list_folder(path: Path, ctx: ToolContext) -> ToolResult:
    shown = ctx.display(path).rstrip("/") + "/"
    try:
        entries = sorted(os.scandir(path), key=lambda e: e.name)
    except OSError as e:
        raise ToolError(f"cannot list {shown}: {e.strerror or e}") from None
    if not entries:
        return ToolResult(f"{shown} is an empty folder.")
    names = [e.name + "/" if _is_dir(e) else e.name for e in entries[:MAX_ENTRIES]]
    out = f"{shown} is a folder with {count(len(entries), 'entry', 'entries')}:\n" + "\n".join(names)
    if len(entries) > MAX_ENTRIES:
        out += f"\n... and {len(entries) - MAX_ENTRIES} more; use glob to search it"
    return ToolResult(out, data={"path": shown, "entries": len(entries)})


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def _read_page(path: Path, ctx: ToolContext, offset: int, limit: int) -> ToolResult:
    shown = ctx.display(path)
    try:
        with path.open("rb") as f:
            head = f.read(SNIFF_BYTES)
            kind = binary_kind(path, head)
            if kind is not None and (kind.endswith(" image") or kind.startswith("image/")) and ctx.see_image is not None:
                return ToolResult(ctx.see_image(path), data={"path": shown, "image": True})
            if kind is not None:
                size = human_size(os.fstat(f.fileno()).st_size)
                raise ToolError(
                    f"{shown} is a binary file ({kind}, {size}); read_file shows text only"
                )
            f.seek(0)
            # In an editor, the page is of the buffer as it stands, unsaved changes included.
            source = f if ctx.editor is None else io.BytesIO(through_editor(path, f.read(), ctx.editor))
            page, total, utf8 = _scan(source, offset, limit, ctx)
    except PermissionError:
        raise ToolError(f"permission denied reading {shown}") from None
    except OSError as e:
        raise ToolError(f"cannot read {shown}: {e.strerror or e}") from None
    if total == 0:
        return ToolResult(f"{shown} is empty (0 lines).", data={"path": shown, "total": 0})
    if offset > total:
        raise ToolError(f"offset {offset} is past the end of {shown}, which has {total} lines")
    lines = _decode(page, utf8, offset == 1)
    body, last = _render(lines, offset)
    if last < total:
        footer = (
            f"(lines {offset}-{last} of {total}; "
            f"call read_file with offset={last + 1} to continue)"
        )
    elif offset == 1:
        footer = f"(end of file, {total} lines)"
    else:
        footer = f"(lines {offset}-{last} of {total}, end of file)"
    data = {"path": shown, "first": offset, "last": last, "total": total}
    return ToolResult(f"{body}\n{footer}", data=data)


def _scan(f: Any, offset: int, limit: int, ctx: ToolContext) -> tuple[list[bytes], int, bool]:
    """One pass over the file: the raw lines of the page, the line count, and whether the
    whole file is valid UTF-8 (decided over the whole file, as the edit tools decide it)."""
    page: list[bytes] = []
    total = 0
    utf8 = True
    for raw in f:
        total += 1
        if utf8:
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                utf8 = False
        if offset <= total < offset + limit:
            page.append(raw)
        if total % 50_000 == 0 and ctx.cancel.is_set():
            raise ToolError("read_file was cancelled")
    return page, total, utf8


def _decode(page: list[bytes], utf8: bool, at_start: bool) -> list[str]:
    lines = []
    for raw in page:
        if raw.endswith(b"\n"):
            raw = raw[:-2] if raw.endswith(b"\r\n") else raw[:-1]
        lines.append(raw.decode("utf-8") if utf8 else raw.decode("latin-1"))
    if utf8 and at_start and page and page[0].startswith(BOM):
        lines[0] = lines[0][1:]
    return lines


def _render(lines: list[str], offset: int) -> tuple[str, int]:
    """The numbered page, cut short if it grows past MAX_PAGE_CHARS; and its last line number."""
    shown: list[str] = []
    size = 0
    for line in lines:
        if len(line) > MAX_LINE_CHARS:
            line = f"{line[:MAX_LINE_CHARS]} [... line cut, {len(line)} characters in all]"
        size += len(line) + 8
        if shown and size > MAX_PAGE_CHARS:
            break
        shown.append(line)
    return number_lines(shown, offset), offset + len(shown) - 1


TOOL = Tool(
    name="read_file",
    description=description_beside(__file__, "read_file"),
    params=(
        Param("path", "string", "File or folder to read, relative to the workspace or absolute."),
        Param("offset", "integer", "Line number to start at (1-based).", required=False, minimum=1),
        Param(
            "limit", "integer", "How many lines to read (default 2000).", required=False, minimum=1
        ),
    ),
    kind="read",
    run=run,
)
