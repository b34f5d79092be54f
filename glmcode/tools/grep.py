"""The grep tool: a regex search over the workspace by ripgrep, or by Python when no rg binary
can be found; both give the same output."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from glmcode.text import count
from glmcode.tools.base import Param, Tool, ToolContext, ToolError, ToolResult, description_beside
from glmcode.tools.truncate import head_tail

# The search machinery (ignore rules, ripgrep, the Python search) is imported by the first
# search, not by every start: the first request needs only this tool's schema.
if TYPE_CHECKING:
    from glmcode.tools.ignore import GlobFilter
    from glmcode.tools.search import FileHits, Query

MODES = ("content", "files_with_matches", "count")
DEFAULT_MAX_RESULTS = 200
# Lines longer than this (minified code, data) are cut in the results.
LINE_CHARS = 500


def run(args: dict[str, Any], ctx: ToolContext) -> ToolResult:
    pattern = args["pattern"]
    if not pattern:
        raise ToolError("grep: pattern is empty")
    root = ctx.resolve(args["path"] or ".")
    if not root.exists():
        raise ToolError(f"grep: {args['path']} does not exist")
    from glmcode.tools.search import Query

    glob_filter = parse_glob(args["glob"], "grep")
    query = Query(root, pattern, args["ignore_case"], args["context"])
    if glob_filter:
        query = replace(query, include_hidden=glob_filter.names_hidden, keep=glob_filter.matches)
    mode, limit = args["output_mode"], args["max_results"]
    hits = find_hits(query, glob_filter, limit if mode == "content" else 0, ctx.cancel)
    text, files, matches = _format(hits, mode, args["context"], limit, ctx)
    if not files:
        where = "the workspace" if root == ctx.workspace.resolve() else ctx.display(root)
        only = f" (files matching {glob_filter.pattern})" if glob_filter else ""
        text = f"No matches for {pattern!r} in {where}{only}."
    short = head_tail(text, head=text.count("\n") + 1, tail=0)
    return ToolResult(
        output=text,
        model_output=None if short == text else short,
        data={"files": files, "matches": matches},
    )


def parse_glob(pattern: str | None, tool: str) -> GlobFilter | None:
    if not pattern:
        return None
    from glmcode.tools.ignore import GlobFilter

    try:
        return GlobFilter.parse(pattern)
    except ValueError as exc:
        raise ToolError(f"{tool}: {exc}") from exc


def find_hits(
    query: Query, glob_filter: GlobFilter | None, lines_wanted: int, cancel: threading.Event
) -> Iterator[FileHits]:
    """Files with matches, in path order, from ripgrep when it runs, else from Python; the
    first ones with their lines, up to `lines_wanted` lines."""
    from glmcode.tools.rg import RgUnavailable, find_rg, rg_search
    from glmcode.tools.search import python_search

    rg = find_rg()
    if rg is not None:
        name_glob = None
        if glob_filter and glob_filter.basename_only:
            name_glob = glob_filter.pattern.strip()
        try:
            yield from rg_search(rg, query, name_glob, lines_wanted, cancel)
            return
        except RgUnavailable:
            pass
    yield from python_search(query, cancel)


def _format(
    hits: Iterator[FileHits], mode: str, context: int, limit: int, ctx: ToolContext
) -> tuple[str, int, int]:
    """The result text, the number of files with matches and of matching lines."""
    out: list[str] = []
    files = matches = total = shown = 0
    last: tuple[Path, int] | None = None
    for hit in hits:
        files += 1
        matches += hit.matches
        name = ctx.display(hit.path)
        if mode != "content":
            total += 1
            if shown < limit:
                out.append(name if mode == "files_with_matches" else f"{name}:{hit.matches}")
                shown += 1
            continue
        total += hit.line_count
        if shown >= limit or hit.lines is None:
            continue
        for line in hit.lines()[: limit - shown]:
            if context and last is not None and last != (hit.path, line.number - 1):
                out.append("--")
            mark = ":" if line.is_match else "-"
            out.append(f"{name}{mark}{line.number}{mark}{_clip(line.text)}")
            last = (hit.path, line.number)
            shown += 1
    if mode == "count" and files:
        out.append(f"{count(matches, 'matching line')} in {count(files, 'file')}.")
    if shown < total:
        found = f"{count(matches, 'matching line')} in {count(files, 'file')}"
        part = f"{shown} lines" if mode == "content" else f"{shown} of {files} files"
        part = f"{part}; {found}"
        out.append(
            f"[Showing the first {part} in all. Narrow the search with path, glob or a more "
            "specific pattern, or raise max_results.]"
        )
    return "\n".join(out), files, matches


def _clip(text: str) -> str:
    text = text.rstrip("\r")
    if len(text) <= LINE_CHARS:
        return text
    return f"{text[:LINE_CHARS]} [... {len(text) - LINE_CHARS} more characters]"


TOOL = Tool(
    name="grep",
    description=description_beside(__file__, "grep"),
    params=(
        Param("pattern", "string", "Regular expression to search for (Rust regex syntax)."),
        Param(
            "path", "string", "File or folder to search; the workspace by default.",
            required=False,
        ),
        Param(
            "glob", "string", "Search only files matching this glob, e.g. *.py or src/**/*.ts.",
            required=False,
        ),
        Param(
            "ignore_case", "boolean", "Match regardless of case.", required=False, default=False
        ),
        Param(
            "context", "integer", "Lines to show before and after each match.",
            required=False, default=0, minimum=0, maximum=20,
        ),
        Param(
            "output_mode", "string", "content (matching lines), files_with_matches or count.",
            required=False, default="content", enum=MODES,
        ),
        Param(
            "max_results", "integer", "Most lines (or files) to return; 200 by default.",
            required=False, default=DEFAULT_MAX_RESULTS, minimum=1, maximum=2000,
        ),
    ),
    kind="read",
    run=run,
)
