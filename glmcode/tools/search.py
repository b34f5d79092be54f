"""Content search results as both backends give them (ripgrep in rg.py, pure Python here),
so that the grep tool formats one shape whichever ran."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from glmcode.tools.base import ToolError
from glmcode.tools.ignore import walk_files

UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
UTF8_BOM = "\ufeff"


@dataclass(frozen=True)
class HitLine:
    number: int
    text: str
    is_match: bool


@dataclass(frozen=True)
class FileHits:
    """One file with matches. `lines` (matching lines and their context, in order) is
    decoded only when called: a broad search may find far more than is shown. It is None
    past the lines a search was asked for, where only counts were collected."""

    path: Path
    matches: int
    line_count: int
    lines: Callable[[], list[HitLine]] | None


@dataclass(frozen=True)
class Query:
    """What to search for and where; `keep` decides, from a file's path relative to `root`,
    whether the file is searched."""

    root: Path
    pattern: str
    ignore_case: bool = False
    context: int = 0
    include_hidden: bool = False
    keep: Callable[[str], bool] = lambda rel: True


def python_search(query: Query, cancel: threading.Event) -> Iterator[FileHits]:
    """The search without ripgrep: the same files, the same lines, Python's `re`."""
    try:
        regex = re.compile(query.pattern, re.IGNORECASE if query.ignore_case else 0)
    except re.error as exc:
        raise ToolError(f"grep: invalid regex {query.pattern!r}: {exc}") from exc
    explicit_file = not query.root.is_dir()
    for path in walk_files(query.root, query.include_hidden):
        if cancel.is_set():
            raise ToolError("grep: cancelled by the user")
        if not explicit_file and not query.keep(path.relative_to(query.root).as_posix()):
            continue
        try:
            text = decode(path.read_bytes())
        except OSError:
            continue
        if text is None:
            continue
        lines = text.split("\n")
        if lines[-1] == "":
            lines.pop()
        hits = [i for i, line in enumerate(lines) if regex.search(line)]
        if hits:
            shown = with_context(hits, query.context, len(lines))
            found = [HitLine(i + 1, lines[i], i in shown[1]) for i in shown[0]]
            yield FileHits(path, len(hits), len(found), lambda found=found: found)


def decode(data: bytes) -> str | None:
    """A file's text, or None for a binary file (a NUL byte anywhere, as ripgrep decides)."""
    if data.startswith(UTF16_BOMS):
        return data.decode("utf-16", errors="replace")
    if b"\0" in data:
        return None
    return data.decode("utf-8", errors="replace").removeprefix(UTF8_BOM)


def with_context(hits: list[int], context: int, total: int) -> tuple[list[int], set[int]]:
    """The line indexes to show (hits and up to `context` lines around each) and the set of
    hits among them."""
    shown: dict[int, None] = {}
    for i in hits:
        for j in range(max(0, i - context), min(total, i + context + 1)):
            shown[j] = None
    return sorted(shown), set(hits)
