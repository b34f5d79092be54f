"""edit_file: replace an exact piece of a file, keeping its line endings, encoding and final
newline; when the piece is not found, show the model where the file differs."""

from __future__ import annotations

import bisect
import heapq
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from glmcode.tools.base import Param, Tool, ToolContext, ToolError, ToolResult, description_beside
from glmcode.tools.changes import FileChange, apply_changes, unified_diff
from glmcode.tools.files import load_text, not_found, number_lines, split_lines

SNIPPET_CONTEXT = 2
MAX_SNIPPET_LINES = 20
MAX_LISTED_MATCHES = 20
# Below this similarity the "closest region" is noise rather than help.
MIN_SIMILARITY = 0.4

_TOKEN = re.compile(r"\w+|[^\w\s]")
_LINE_NUMBER_PREFIX = re.compile(r"^\s*\d+\t")


@dataclass(frozen=True)
class Edit:
    change: FileChange
    replacements: int
    first_line: int
    new_string: str
    new_text: str


def plan(args: dict[str, Any], ctx: ToolContext) -> Edit:
    path = ctx.writable(args["path"])
    old_string, new_string = args["old_string"], args["new_string"]
    replace_all = bool(args.get("replace_all"))
    if old_string == new_string:
        raise ToolError("old_string and new_string are the same; the edit would change nothing")
    if path.is_dir():
        raise ToolError(f"{ctx.display(path)} is a folder, not a file")
    if not path.exists():
        if old_string:
            raise ToolError(
                f"{not_found(path, ctx)} (to create a file, give an empty old_string "
                "or use write_file)"
            )
        change = FileChange(path, None, new_string.encode("utf-8"))
        return Edit(change, 1, 1, new_string, new_string)
    data, before = load_text(path, ctx)
    shown = ctx.display(path)
    # The model writes "\n"; a CRLF file gets its own endings back when it is encoded.
    if "\r\n" not in before.text:
        old_string = old_string.replace("\r\n", "\n")
        new_string = new_string.replace("\r\n", "\n")
    if not old_string:
        if before.text.strip():
            raise ToolError(
                f"old_string is empty but {shown} is not; quote the text to replace, "
                "or use write_file to replace the whole file"
            )
        after, starts = before.with_text(new_string), [0]
    else:
        starts = _find_all(before.text, old_string)
        if not starts:
            raise ToolError(_no_match_message(before.text, old_string, shown))
        if len(starts) > 1 and not replace_all:
            raise ToolError(_many_matches_message(before.text, starts, shown))
        count = -1 if replace_all else 1
        after = before.with_text(before.text.replace(old_string, new_string, count))
    new = after.encode()
    if new == data:
        raise ToolError(f"the edit leaves {shown} unchanged (its final newline is kept as it was)")
    first_line = before.text.count("\n", 0, starts[0]) + 1
    return Edit(FileChange(path, data, new), len(starts), first_line, new_string, after.text)


def _find_all(text: str, needle: str) -> list[int]:
    """Start offsets of the non-overlapping occurrences, as str.replace counts them."""
    starts = []
    at = text.find(needle)
    while at != -1:
        starts.append(at)
        at = text.find(needle, at + len(needle))
    return starts


def _many_matches_message(text: str, starts: list[int], shown: str) -> str:
    line_numbers = []
    line, scanned = 1, 0
    for at in starts[:MAX_LISTED_MATCHES]:
        line += text.count("\n", scanned, at)
        scanned = at
        line_numbers.append(str(line))
    listed = ", ".join(line_numbers) + (", ..." if len(starts) > MAX_LISTED_MATCHES else "")
    return (
        f"old_string occurs {len(starts)} times in {shown} (at lines {listed}); include more "
        "surrounding lines to pick one, or set replace_all to change every occurrence"
    )


def _no_match_message(text: str, old_string: str, shown: str) -> str:
    lines = split_lines(text)
    wanted = split_lines(old_string) or [old_string]
    parts = [f"old_string was not found in {shown}."]
    if all(_LINE_NUMBER_PREFIX.match(w) for w in wanted if w.strip()):
        parts.append(
            "Its lines start with line numbers copied from read_file; leave out the number "
            "and the tab after it."
        )
    loose = _whitespace_insensitive_match(lines, old_string)
    if loose is not None:
        first, last = loose
        region = lines[first : last + 1]
        parts.append(
            f"It matches {_span(first + 1, last + 1)} if whitespace is ignored: "
            f"{_whitespace_difference(region, wanted)}. The file has:\n"
            + _region(region, first + 1)
        )
    else:
        closest = _closest_region(lines, wanted)
        if closest is not None:
            first, similarity = closest
            region = lines[first : first + len(wanted)]
            parts.append(
                f"The closest region is {_span(first + 1, first + len(region))} "
                f"({similarity:.0%} similar):\n" + _region(region, first + 1)
            )
        else:
            parts.append("Nothing in the file resembles it.")
    parts.append(
        "old_string must match the file exactly; read the file again if it may have changed."
    )
    return "\n".join(parts)


def _span(first: int, last: int) -> str:
    return f"line {first}" if first == last else f"lines {first}-{last}"


def _squash(text: str) -> str:
    return "".join(text.split())


def _whitespace_insensitive_match(lines: list[str], old_string: str) -> tuple[int, int] | None:
    """First and last line (0-based) of a match that ignores all whitespace, if there is one."""
    needle = _squash(old_string)
    if not needle:
        return None
    squashed = [_squash(line) for line in lines]
    starts, offset = [], 0
    for s in squashed:
        starts.append(offset)
        offset += len(s)
    at = "".join(squashed).find(needle)
    if at == -1:
        return None
    first = bisect.bisect_right(starts, at) - 1
    return first, bisect.bisect_right(starts, at + len(needle) - 1) - 1


def _whitespace_difference(region: list[str], wanted: list[str]) -> str:
    def indents(lines: list[str]) -> str:
        return "".join(line[: len(line) - len(line.lstrip())] for line in lines)

    have, want = indents(region), indents(wanted)
    if "\t" in have and "\t" not in want:
        return "the file indents with tabs, old_string with spaces"
    if "\t" in want and "\t" not in have:
        return "the file indents with spaces, old_string with tabs"
    return "the indentation or spacing differs"


def _closest_region(lines: list[str], wanted: list[str]) -> tuple[int, float] | None:
    """Start (0-based) and similarity of the window of len(wanted) lines most like `wanted`.

    Windows are first ranked by how many of wanted's tokens they contain (one pass, counts
    kept up to date as the window slides); only the best few are compared character by
    character, which keeps this fast on large files."""
    if not lines:
        return None
    size = min(len(wanted), len(lines))
    target = Counter(_TOKEN.findall("\n".join(wanted)))
    line_tokens = [_TOKEN.findall(line) for line in lines]
    window: Counter[str] = Counter()
    overlap = 0

    def add(tokens: list[str]) -> None:
        nonlocal overlap
        for t in tokens:
            if window[t] < target[t]:
                overlap += 1
            window[t] += 1

    def remove(tokens: list[str]) -> None:
        nonlocal overlap
        for t in tokens:
            window[t] -= 1
            if window[t] < target[t]:
                overlap -= 1

    for tokens in line_tokens[:size]:
        add(tokens)
    scored = [(overlap, 0)]
    for start in range(1, len(lines) - size + 1):
        remove(line_tokens[start - 1])
        add(line_tokens[start + size - 1])
        scored.append((overlap, -start))
    import difflib  # only a failed match gets here

    want_text = "\n".join(wanted)
    best: tuple[int, float] | None = None
    for _, negative_start in heapq.nlargest(5, scored):
        start = -negative_start
        candidate = "\n".join(lines[start : start + size])
        ratio = difflib.SequenceMatcher(None, candidate, want_text).ratio()
        if best is None or ratio > best[1]:
            best = (start, ratio)
    if best is None or best[1] < MIN_SIMILARITY:
        return None
    return best


def _region(lines: list[str], first: int) -> str:
    if len(lines) <= MAX_SNIPPET_LINES:
        return number_lines(lines, first)
    return number_lines(lines[:MAX_SNIPPET_LINES], first) + "\n   ..."


def _snippet(edit: Edit) -> str:
    lines = split_lines(edit.new_text)
    first = max(1, edit.first_line - SNIPPET_CONTEXT)
    spanned = max(1, len(split_lines(edit.new_string)))
    last = min(len(lines), edit.first_line + spanned - 1 + SNIPPET_CONTEXT)
    return _region(lines[first - 1 : last], first)


def run(args: dict[str, Any], ctx: ToolContext) -> ToolResult:
    edit = plan(args, ctx)
    shown = ctx.display(edit.change.path)
    diff = unified_diff([edit.change], ctx)
    apply_changes([edit.change], ctx.editor)
    data = {"path": shown, "replacements": edit.replacements}
    if edit.change.old is None:
        lines = len(split_lines(edit.new_text))
        return ToolResult(f"Created {shown} ({lines} lines).", diff=diff, data=data)
    if edit.replacements == 1:
        head = f"Replaced 1 occurrence in {shown}:"
    else:
        head = f"Replaced {edit.replacements} occurrences in {shown}; the first is now:"
    return ToolResult(f"{head}\n{_snippet(edit)}", diff=diff, data=data)


def preview(args: dict[str, Any], ctx: ToolContext) -> str:
    return unified_diff([plan(args, ctx).change], ctx)


TOOL = Tool(
    name="edit_file",
    description=description_beside(__file__, "edit_file"),
    params=(
        Param("path", "string", "File to edit, relative to the workspace or absolute."),
        Param("old_string", "string", "Exact text to replace, including whitespace."),
        Param("new_string", "string", "Text to put in its place."),
        Param(
            "replace_all", "boolean", "Replace every occurrence, not just a unique one.",
            required=False, default=False,
        ),
    ),
    kind="edit",
    run=run,
    preview=preview,
)
