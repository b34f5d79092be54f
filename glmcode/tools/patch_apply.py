"""A parsed patch checked against the files and turned into changes, nothing written: chunks
found strictly first and then more and more loosely, and where one is not found, a message
that shows the model the lines it missed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from glmcode.tools.base import ToolContext, ToolError
from glmcode.tools.changes import FileChange
from glmcode.tools.files import load_text, number_lines, read_bytes
from glmcode.tools.patch_format import (
    AddFile,
    Chunk,
    DeleteFile,
    FileOp,
    PatchLine,
    parse_patch,
)

REJECTED = "The whole patch was rejected; no file was changed."

# Models often type ASCII where the file has typographic punctuation, or the reverse.
_PUNCTUATION = str.maketrans(
    {
        "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-",
        "\u2212": "-", "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'",
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u00a0": " ",
        "\u2009": " ", "\u202f": " ",
    }
)

# From strict to loose: each chunk is matched with the first of these that finds it.
_MATCHERS: tuple[Callable[[str], str], ...] = (
    lambda s: s,
    str.rstrip,
    str.strip,
    lambda s: s.translate(_PUNCTUATION).strip(),
)


class ChunkMismatch(ToolError):
    """A chunk that is not in the file; its message already says where."""


@dataclass(frozen=True)
class Planned:
    op: FileOp
    change: FileChange


def plan(args: dict[str, Any], ctx: ToolContext) -> list[Planned]:
    """Every file of the patch checked and computed; nothing is written."""
    planned: list[Planned] = []
    seen: dict[Path, int] = {}
    for op in parse_patch(args["patch"], _file_lines(ctx)):
        try:
            change = _plan_op(op, ctx)
        except ChunkMismatch:
            raise
        except ToolError as e:
            raise ToolError(f"patch line {op.number}: {e}") from None
        for path in dict.fromkeys((change.source, change.path)):
            if path in seen:
                raise ToolError(
                    f"patch line {op.number}: {ctx.display(path)} already appears at patch line "
                    f"{seen[path]}; put all changes to a file in one section"
                )
            seen[path] = op.number
        planned.append(Planned(op, change))
    return planned


def _file_lines(ctx: ToolContext) -> Callable[[str], frozenset[str]]:
    """Each updated file's lines, stripped, read once; a file that cannot be read has none, and
    planning names the reason later."""
    cache: dict[str, frozenset[str]] = {}

    def lines_of(name: str) -> frozenset[str]:
        if name not in cache:
            try:
                _, text = load_text(ctx.writable(name), ctx)
                cache[name] = frozenset(line.strip() for line in text.lines())
            except (ToolError, OSError):
                cache[name] = frozenset()
        return cache[name]

    return lines_of


def _plan_op(op: FileOp, ctx: ToolContext) -> FileChange:
    path = ctx.writable(op.path)
    shown = ctx.display(path)
    if isinstance(op, AddFile):
        if path.exists() or path.is_symlink():
            raise ToolError(
                f"cannot add {shown}, it already exists; use '*** Update File' to change it"
            )
        content = "".join(line + "\n" for line in op.lines)
        return FileChange(path, None, content.encode("utf-8"))
    if path.is_dir():
        raise ToolError(f"{shown} is a folder, not a file")
    if isinstance(op, DeleteFile):
        return FileChange(path, read_bytes(path, ctx), None)
    data, before = load_text(path, ctx)
    lines = _apply_chunks(before.lines(), op.chunks, shown)
    after = before.with_text("".join(line + "\n" for line in lines)).encode()
    if op.move_to is None:
        return FileChange(path, data, after)
    target = ctx.writable(op.move_to)
    if target != path and (target.exists() or target.is_symlink()):
        raise ToolError(f"cannot move {shown} to {ctx.display(target)}, which already exists")
    return FileChange(target, data, after, move_from=path)


def _apply_chunks(lines: list[str], chunks: tuple[Chunk, ...], shown: str) -> list[str]:
    views = [[match(line) for line in lines] for match in _MATCHERS]
    edits: list[tuple[int, int, list[str]]] = []
    cursor = 0
    for index, chunk in enumerate(chunks, 1):
        where = f"{shown}, chunk {index} (patch line {chunk.number})"
        if chunk.anchor is not None:
            at = _seek(views, [chunk.anchor], cursor, at_end=False)
            if at is None:
                raise ChunkMismatch(
                    f"{where}: the @@ line {chunk.anchor!r} was not found after line {cursor}"
                )
            cursor = at + 1
        old = chunk.old
        if not old:
            at = cursor if chunk.anchor is not None and not chunk.at_end else len(lines)
            edits.append((at, 0, chunk.new))
            cursor = at
            continue
        at = _seek(views, [line.text for line in old], cursor, chunk.at_end)
        if at is None:
            raise ChunkMismatch(_mismatch(where, lines, views, old, cursor, chunk.at_end))
        edits.append((at, len(old), _replacement(chunk, lines[at : at + len(old)])))
        cursor = at + len(old)
    out = list(lines)
    for at, length, new in reversed(edits):
        out[at : at + length] = new
    return out


def _replacement(chunk: Chunk, matched: list[str]) -> list[str]:
    """The chunk's new lines, with context lines as the file has them: a loose match must not
    rewrite the whitespace of lines the patch only quotes."""
    out = []
    found = iter(matched)
    for line in chunk.lines:
        if line.kind == " ":
            out.append(next(found))
        elif line.kind == "-":
            next(found)
        else:
            out.append(line.text)
    return out


def _seek(views: list[list[str]], pattern: list[str], start: int, at_end: bool) -> int | None:
    """Where `pattern` starts in the file at or after line index `start`, matching strictly
    first and then more and more loosely; with `at_end`, only where it ends the file."""
    size = len(views[0])
    last = size - len(pattern)
    if last < start:
        return None
    candidates = [last] if at_end else range(start, last + 1)
    for match, view in zip(_MATCHERS, views, strict=True):
        wanted = [match(p) for p in pattern]
        for at in candidates:
            if view[at : at + len(wanted)] == wanted:
                return at
    return None


def _mismatch(
    where: str,
    lines: list[str],
    views: list[list[str]],
    old: list[PatchLine],
    cursor: int,
    at_end: bool,
) -> str:
    """Which line of the chunk did not match, and where in the file it was looked for: at the
    place where the longest run of the chunk's first lines does match."""
    loose = views[-1]
    wanted = [_MATCHERS[-1](line.text) for line in old]
    last = max(cursor, len(lines) - len(old))
    best_at, best_len = (last if at_end else cursor), 0
    for at in [last] if at_end else range(cursor, len(lines)):
        matched = 0
        while (
            matched < len(wanted)
            and at + matched < len(lines)
            and loose[at + matched] == wanted[matched]
        ):
            matched += 1
        if matched > best_len:
            best_at, best_len = at, matched
    if best_len == 0 and not at_end:
        first = old[0]
        message = f"{where}: the line {first.text!r} (patch line {first.number}) was not found"
        message += f" after line {cursor}." if cursor else " in the file."
        earlier = next((i for i in range(cursor) if loose[i] == wanted[0]), None)
        if earlier is not None:
            message += (
                f" It is at line {earlier + 1}, before the previous chunk: chunks must follow "
                "the file's order."
            )
        return f"{message}\n{_excerpt(lines, cursor)}{REJECTED}"
    bad = old[best_len]
    at = best_at + best_len
    if at < len(lines):
        found = f"line {at + 1} of the file, which is {lines[at]!r}"
    else:
        found = "the end of the file"
    intro = "with '*** End of File' the chunk must end the file; " if at_end else ""
    return (
        f"{where}: {intro}the line {bad.text!r} (patch line {bad.number}) did not match {found}.\n"
        f"{_excerpt(lines, max(0, at - 2))}{REJECTED}"
    )


def _excerpt(lines: list[str], start: int) -> str:
    shown = lines[start : start + 5]
    if not lines:
        return "The file is empty.\n"
    if not shown:
        return ""
    return f"The file from line {start + 1}:\n{number_lines(shown, start + 1)}\n"
