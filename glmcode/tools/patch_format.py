"""The `*** Begin Patch` envelope: parsed into file operations, every error naming its line.

    *** Begin Patch
    *** Add File: path          followed by "+line" lines
    *** Delete File: path
    *** Update File: path
    *** Move to: new/path       optional, right after Update File
    @@ optional anchor line     then " context", "-removed", "+added" lines
    *** End of File             optional: the chunk above ends at the end of the file
    *** End Patch
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass

from glmcode.tools.base import ToolError

BEGIN = "*** Begin Patch"
END = "*** End Patch"
ADD = "*** Add File:"
DELETE = "*** Delete File:"
UPDATE = "*** Update File:"
MOVE = "*** Move to:"
END_OF_FILE = "*** End of File"

# "@@ -12,5 +12,6 @@ def f():" from a unified diff: the numbers mean nothing here, the text after
# them can still anchor the chunk.
_UNIFIED_HUNK = re.compile(r"^-\d+(?:,\d+)? \+\d+(?:,\d+)? @@\s?")
_HEREDOC_END = re.compile(r"^['\"]?[A-Za-z_]+['\"]?$")


@dataclass(frozen=True)
class PatchLine:
    kind: str  # " " context, "-" removed, "+" added
    text: str
    number: int  # line number in the patch


@dataclass(frozen=True)
class Chunk:
    number: int
    anchor: str | None
    lines: tuple[PatchLine, ...]
    at_end: bool = False

    @property
    def old(self) -> list[PatchLine]:
        """Context and removed lines: what must be found in the file, in order."""
        return [line for line in self.lines if line.kind != "+"]

    @property
    def new(self) -> list[str]:
        return [line.text for line in self.lines if line.kind != "-"]


@dataclass(frozen=True)
class AddFile:
    path: str
    number: int
    lines: tuple[str, ...]


@dataclass(frozen=True)
class DeleteFile:
    path: str
    number: int


@dataclass(frozen=True)
class UpdateFile:
    path: str
    number: int
    move_to: str | None
    chunks: tuple[Chunk, ...]


FileOp = AddFile | DeleteFile | UpdateFile

# The lines of a file to be updated, stripped: how a padded marker is told from a context line.
FileLines = Callable[[str], Collection[str]]


def _error(number: int, message: str) -> ToolError:
    return ToolError(f"patch line {number}: {message}")


def _show(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")


def parse_patch(text: str, file_lines: FileLines | None = None) -> list[FileOp]:
    """The file operations of a patch, in order. Text around the envelope may be blank lines,
    a ``` fence or a heredoc (`<<'EOF'` ... `EOF`); anything else is an error. With
    `file_lines`, a padded marker inside an update that is also a line of that file is read as
    a context line, so a file whose own lines look like markers can still be patched."""
    lines = list(enumerate(text.replace("\r\n", "\n").split("\n"), 1))
    begin = next((i for i, (_, line) in enumerate(lines) if line.strip() == BEGIN), None)
    if begin is None:
        raise _error(1, f"a patch starts with the line '{BEGIN}'")
    for number, line in lines[:begin]:
        stripped = line.strip()
        if stripped and not stripped.startswith("```") and "<<" not in stripped:
            raise _error(number, f"unexpected text before '{BEGIN}': {_show(stripped)}")
    end = next((i for i in range(len(lines) - 1, begin, -1) if lines[i][1].strip() == END), None)
    if end is None:
        raise _error(lines[-1][0], f"the patch has no '{END}' line; it may be cut off")
    for number, line in lines[end + 1 :]:
        stripped = line.strip()
        if stripped and not stripped.startswith("```") and not _HEREDOC_END.match(stripped):
            raise _error(number, f"unexpected text after '{END}': {_show(stripped)}")
    ops = _parse_body(lines[begin + 1 : end], file_lines)
    if not ops:
        raise _error(lines[begin][0], "the patch changes no file")
    return ops


def _marker(line: str) -> str:
    """The line as a marker: the model sometimes pads `*** Update File:` and its kin with spaces
    or tabs. One space and no more is a context line's prefix (a file that itself holds such a
    marker, like this tool's description), so that line keeps its space and is no marker."""
    if line.startswith(" ") and not line.startswith("  "):
        return line.rstrip()
    return line.strip()


def _file_header(line: str) -> tuple[str, str] | None:
    marker_line = _marker(line)
    for marker in (ADD, DELETE, UPDATE):
        if marker_line.startswith(marker):
            return marker, marker_line[len(marker) :].strip()
    return None


def _context_in(line: str, path: str, file_lines: FileLines | None) -> bool:
    """Whether a padded line inside `path`'s update is a line of that file rather than a marker:
    the model pads markers, but an indented line of the file reads the same way."""
    return line[:1].isspace() and file_lines is not None and line.strip() in file_lines(path)


def _parse_body(lines: list[tuple[int, str]], file_lines: FileLines | None) -> list[FileOp]:
    ops: list[FileOp] = []
    i = 0
    while i < len(lines):
        number, line = lines[i]
        if not line.strip():
            i += 1
            continue
        header = _file_header(line)
        if header is None:
            raise _error(
                number,
                f"expected '{ADD}', '{DELETE}' or '{UPDATE}', got {_show(line)}",
            )
        marker, path = header
        if not path:
            raise _error(number, f"'{marker}' needs a path")
        section_end = i + 1
        while section_end < len(lines) and (
            _file_header(lines[section_end][1]) is None
            or (marker == UPDATE and _context_in(lines[section_end][1], path, file_lines))
        ):
            section_end += 1
        section = lines[i + 1 : section_end]
        if marker == ADD:
            ops.append(AddFile(path, number, _parse_added(section)))
        elif marker == DELETE:
            for n, extra in section:
                if extra.strip():
                    raise _error(n, f"'{DELETE}' takes no lines after it, got {_show(extra)}")
            ops.append(DeleteFile(path, number))
        else:
            ops.append(_parse_update(path, number, section, file_lines))
        i = section_end
    return ops


def _parse_added(section: list[tuple[int, str]]) -> tuple[str, ...]:
    body = _trim_blank(section)
    out = []
    for number, line in body:
        if line.startswith("+"):
            out.append(line[1:])
        elif not line.strip():
            out.append("")  # a blank line inside added content: the "+" was dropped
        elif _marker(line) == END_OF_FILE:
            continue
        else:
            raise _error(number, f"every line of an added file starts with '+', got {_show(line)}")
    return tuple(out)


def _trim_blank(section: list[tuple[int, str]]) -> list[tuple[int, str]]:
    start, end = 0, len(section)
    while start < end and not section[start][1].strip():
        start += 1
    while end > start and not section[end - 1][1].strip():
        end -= 1
    return section[start:end]


def _parse_update(
    path: str, number: int, section: list[tuple[int, str]], file_lines: FileLines | None
) -> UpdateFile:
    def marker_of(line: str) -> str:
        marker = _marker(line)
        if marker.startswith(("@@", "***")) and _context_in(line, path, file_lines):
            return ""
        return marker

    body = _trim_blank(section)
    move_to = None
    if body and marker_of(body[0][1]).startswith(MOVE):
        move_to = marker_of(body[0][1])[len(MOVE) :].strip()
        if not move_to:
            raise _error(body[0][0], f"'{MOVE}' needs a path")
        body = body[1:]
    raw = dict(body)
    chunks: list[Chunk] = []
    current: list[PatchLine] | None = None
    anchor: str | None = None
    start = number

    def close(at_end: bool = False) -> None:
        if current is None:
            return
        kept = _trim_bare_blank(current, raw)
        if not kept:
            raise _error(start, "this @@ chunk has no lines")
        chunks.append(Chunk(start, anchor, tuple(kept), at_end))

    for n, line in body:
        marker = marker_of(line)
        if marker.startswith("@@"):
            close()
            current, start = [], n
            anchor = _anchor(marker[2:])
        elif marker == END_OF_FILE:
            if current is None:
                raise _error(n, f"'{END_OF_FILE}' must follow the lines of a chunk")
            close(at_end=True)
            current = None
        elif line[:1] in (" ", "-", "+") or not line.strip():
            if current is None:
                current, start, anchor = [], n, None
            kind = line[:1] if line[:1] in ("-", "+") else " "
            current.append(PatchLine(kind, line[1:] if line else "", n))
        elif marker.startswith(MOVE):
            raise _error(n, f"'{MOVE}' must come right after '{UPDATE} {path}'")
        else:
            raise _error(
                n,
                f"a line in '{UPDATE} {path}' starts with ' ', '-', '+' or '@@', "
                f"got {_show(line)}",
            )
    close()
    if not chunks and move_to is None:
        raise _error(number, f"'{UPDATE} {path}' has no changes")
    return UpdateFile(path, number, move_to, tuple(chunks))


def _anchor(rest: str) -> str | None:
    rest = rest.strip()
    hunk = _UNIFIED_HUNK.match(rest)
    if hunk:
        rest = rest[hunk.end() :].strip()
    return rest or None


def _trim_bare_blank(lines: list[PatchLine], raw: dict[int, str]) -> list[PatchLine]:
    """Drop empty patch lines (not even a space) at both ends of a chunk: they are more often
    spacing in the patch than blank lines of the file, and fewer context lines still match."""
    start, end = 0, len(lines)
    while start < end and raw[lines[start].number] == "":
        start += 1
    while end > start and raw[lines[end - 1].number] == "":
        end -= 1
    return lines[start:end]
