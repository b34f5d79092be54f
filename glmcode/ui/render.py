"""Streaming Markdown: each finished block is rendered once, only the unfinished tail is redrawn.

An answer arrives a few characters at a time. Re-rendering all of it on every frame costs time
proportional to its length on each frame, so a long answer slows down as it grows and the
terminal flickers. Here the text is cut into blocks as it streams: a paragraph or list ends at a
blank line, a heading at its end of line, a fenced code block at its closing fence. A finished
block is handed to `commit` once, to be printed into the scrollback; what is left, the tail, is
small and bounded, and is what a live area redraws. A block that grows past `max_lines` is
committed in parts, so the tail stays bounded even inside a very long code block.

rich is imported when a block is rendered, never at import time.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import RenderableType

_FENCE_OPEN = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})\s*(?P<info>.*)$")
_HEADING = re.compile(r"^ {0,3}#{1,6}(\s|$)")
_LIST_ITEM = re.compile(r"^ {0,3}([-*+]|\d{1,9}[.)])(\s|$)")
# The unfinished last line is shown from its end: a line longer than this is cut on screen
# (never in what is committed), so one endless line cannot make a frame expensive.
TAIL_CHARS = 6000
CODE_THEME = "monokai"


@dataclass(frozen=True)
class Block:
    """A piece of the answer. `kind` is "markdown" or "code". `opens` is False for the second and
    later parts of a block committed in parts; `closes` is False for every part of a code block
    but the last (the closing fence is drawn only once)."""

    kind: str
    text: str
    lang: str = ""
    opens: bool = True
    closes: bool = True


@dataclass
class _Fence:
    marker: str
    indent: int
    lang: str
    started: bool = False  # part of this block was committed already


class BlockSplitter:
    """Cuts streamed Markdown into finished blocks and an unfinished tail; every character is
    looked at a bounded number of times, so the work is linear in the text's length."""

    def __init__(self, *, max_lines: int = 40) -> None:
        self.max_lines = max(4, max_lines)
        self._partial: list[str] = []  # the current line, not yet ended by "\n"
        self._lines: list[str] = []  # finished lines of the open block
        self._fence: _Fence | None = None
        self._continued = False  # the open markdown block continues a committed part
        self._items: list[int] = []  # where list items start in the open markdown block

    def feed(self, text: str) -> list[Block]:
        done: list[Block] = []
        start = 0
        while True:
            end = text.find("\n", start)
            if end < 0:
                if start < len(text):
                    self._partial.append(text[start:])
                return done
            line = "".join(self._partial) + text[start:end]
            self._partial.clear()
            self._line(line.rstrip("\r"), done)
            start = end + 1

    def finish(self) -> list[Block]:
        """Everything still open, as finished blocks (an unclosed fence is closed)."""
        done: list[Block] = []
        if self._partial:
            line = "".join(self._partial)
            self._partial.clear()
            self._line(line, done)
        if self._fence is not None:
            done.append(self._code_block(self._lines, closes=True))
            self._fence = None
            self._lines = []
        else:
            self._flush(done)
        return done

    def tail(self) -> Block | None:
        """The unfinished part as it should look now: at most `max_lines` lines plus the end of
        the current line."""
        partial = self._partial_suffix()
        if not self._lines and not partial and self._fence is None:
            return None
        shown = self._lines[-self.max_lines :]
        cropped = len(shown) < len(self._lines)
        text = "\n".join([*shown, partial]) if partial else "\n".join(shown)
        if self._fence is not None:
            if partial and _closes(partial, self._fence):
                text = "\n".join(shown)
            return Block(
                "code",
                _dedent(text, self._fence.indent),
                self._fence.lang,
                opens=not (self._fence.started or cropped),
                closes=False,
            )
        return Block("markdown", text, opens=not self._continued)

    def _partial_suffix(self) -> str:
        parts: list[str] = []
        size = 0
        for part in reversed(self._partial):
            parts.append(part)
            size += len(part)
            if size >= TAIL_CHARS:
                break
        return "".join(reversed(parts))[-TAIL_CHARS:]

    def _line(self, line: str, done: list[Block]) -> None:
        fence = self._fence
        if fence is not None:
            if _closes(line, fence):
                done.append(self._code_block(self._lines, closes=True))
                self._fence = None
                self._lines = []
            else:
                self._lines.append(line)
                if len(self._lines) > self.max_lines:
                    cut = len(self._lines) - self.max_lines // 4
                    done.append(self._code_block(self._lines[:cut], closes=False))
                    fence.started = True
                    self._lines = self._lines[cut:]
            return
        if not line.strip():
            self._flush(done)
            return
        opened = _FENCE_OPEN.match(line)
        if opened:
            self._flush(done)
            info = opened.group("info").strip()
            self._fence = _Fence(opened.group("fence"), len(opened.group("indent")), info.split(" ", 1)[0] if info else "")
            return
        if _HEADING.match(line):
            self._flush(done)
            done.append(Block("markdown", line))
            return
        if _LIST_ITEM.match(line):
            self._items.append(len(self._lines))
        self._lines.append(line)
        if len(self._lines) > self.max_lines:
            self._split(done)

    def _split(self, done: list[Block]) -> None:
        """Commit the head of a long markdown block. A table is never cut (its header would be
        lost); a list is cut only where an item starts. Each check looks at a few lines, never
        at the whole block, so a block that cannot be cut costs no more per line."""
        lines = self._lines
        if lines[0].lstrip().startswith("|"):
            return
        last = len(lines) - self.max_lines // 4
        if self._items:
            cut = next((i for i in reversed(self._items) if 0 < i <= last), 0)
        else:
            cut = last
        if cut <= 0:
            return
        done.append(Block("markdown", "\n".join(lines[:cut]), opens=not self._continued))
        self._lines = lines[cut:]
        self._items = [i - cut for i in self._items if i >= cut]
        self._continued = True

    def _flush(self, done: list[Block]) -> None:
        if self._lines:
            done.append(Block("markdown", "\n".join(self._lines), opens=not self._continued))
        self._lines = []
        self._items = []
        self._continued = False

    def _code_block(self, lines: list[str], *, closes: bool) -> Block:
        fence = self._fence
        assert fence is not None
        return Block(
            "code", _dedent("\n".join(lines), fence.indent), fence.lang, opens=not fence.started, closes=closes
        )


def _closes(line: str, fence: _Fence) -> bool:
    stripped = line.strip()
    char = fence.marker[0]
    return len(stripped) >= len(fence.marker) and stripped == char * len(stripped)


def _dedent(text: str, indent: int) -> str:
    """Code of a fence indented under a list item, moved back to the margin."""
    if not indent:
        return text
    return "\n".join(line[indent:] if line[:indent].isspace() else line.lstrip() for line in text.split("\n"))


def render_block(block: Block, *, code_theme: str = CODE_THEME) -> RenderableType:
    """A block as rich renders it: Markdown, or highlighted code between dim fence lines (kept
    so that copied text is still Markdown, and a code block's edges are plain to see)."""
    if block.kind == "code":
        return render_code(block.text, block.lang, opens=block.opens, closes=block.closes, theme=code_theme)
    return answer_markdown(block.text, code_theme=code_theme)


def render_code(code: str, lang: str, *, opens: bool = True, closes: bool = True, theme: str = CODE_THEME) -> RenderableType:
    from rich.console import Group
    from rich.syntax import Syntax
    from rich.text import Text

    parts: list[Any] = []
    if opens:
        parts.append(Text("```" + lang, style="dim"))
    if code:
        parts.append(
            Syntax(code, _lexer(lang), theme=theme, background_color="default", word_wrap=True)
        )
    if closes:
        parts.append(Text("```", style="dim"))
    return Group(*parts)


def _lexer(lang: str) -> str:
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    if not lang:
        return "text"
    try:
        get_lexer_by_name(lang)
    except ClassNotFound:
        return "text"
    return lang


def answer_markdown(text: str, *, code_theme: str = CODE_THEME) -> RenderableType:
    """rich's Markdown with headings at the left margin and code blocks drawn like ours."""
    return Trimmed(_markdown_class()(text, code_theme=code_theme, hyperlinks=False))


class Trimmed:
    """A renderable without blank lines around it or spaces padding its line ends: rich adds
    both in places that differ between its versions, and blocks here are spaced by the stream,
    and copied text should not carry trailing spaces."""

    def __init__(self, renderable: RenderableType) -> None:
        self.renderable = renderable

    def __rich_console__(self, console: Any, options: Any) -> Any:
        from rich.segment import Segment

        lines = [_rstrip(line) for line in console.render_lines(self.renderable, options, pad=False)]
        start, end = 0, len(lines)
        while start < end and not lines[start]:
            start += 1
        while end > start and not lines[end - 1]:
            end -= 1
        newline = Segment.line()
        for line in lines[start:end]:
            yield from line
            yield newline


def _rstrip(line: list[Any]) -> list[Any]:
    from rich.segment import Segment

    out = list(line)
    while out:
        last = out[-1]
        if last.control or (last.style is not None and last.style.bgcolor is not None):
            break
        text = last.text.rstrip(" ")
        if text:
            out[-1] = Segment(text, last.style)
            break
        out.pop()
    return out


@lru_cache(maxsize=1)
def _markdown_class() -> Any:
    from rich.markdown import CodeBlock, Heading, ListItem, Markdown
    from rich.segment import Segment

    class LeftHeading(Heading):
        def __rich_console__(self, console: Any, options: Any) -> Any:
            heading = self.text.copy()
            heading.justify = "left"
            yield heading

    class PlainCodeBlock(CodeBlock):
        def __rich_console__(self, console: Any, options: Any) -> Any:
            lang = "" if self.lexer_name == "text" else self.lexer_name
            yield render_code(str(self.text).rstrip("\n"), lang, theme=self.theme)

    class NumberedItem(ListItem):
        """Numbers written as the Markdown has them ("1."), whatever rich's own default."""

        def render_number(self, console: Any, options: Any, number: int, last_number: int) -> Any:
            width = len(str(last_number)) + 3
            lines = console.render_lines(self.elements, options.update(width=options.max_width - width), style=self.style)
            style = console.get_style("markdown.item.number", default="none")
            numeral = Segment(f" {number}.".ljust(width), style)
            padding = Segment(" " * width, style)
            for n, line in enumerate(lines):
                yield numeral if n == 0 else padding
                yield from line
                yield Segment("\n")

    class AnswerMarkdown(Markdown):
        elements = {
            **Markdown.elements,
            "heading_open": LeftHeading,
            "fence": PlainCodeBlock,
            "code_block": PlainCodeBlock,
            "list_item_open": NumberedItem,
        }

    return AnswerMarkdown


class MarkdownStream:
    """Feeds streamed text to a BlockSplitter and commits each finished block, rendered, once.

    `commit(renderable)` prints into the scrollback. `tail_renderable()` is what a live area
    should show below it right now; it is cheap, whatever the length of the answer so far.
    Blocks are spaced by a blank line; `space_before` puts one before the first block too, when
    something else was printed just above.
    """

    def __init__(
        self,
        commit: Callable[[RenderableType], None],
        *,
        max_lines: int = 40,
        code_theme: str = CODE_THEME,
        space_before: bool = False,
    ) -> None:
        self._commit = commit
        self._splitter = BlockSplitter(max_lines=max_lines)
        self._code_theme = code_theme
        self._printed = space_before

    def feed(self, text: str) -> None:
        for block in self._splitter.feed(text):
            self._print(block)

    def finish(self) -> None:
        for block in self._splitter.finish():
            self._print(block)

    def tail_renderable(self) -> RenderableType | None:
        block = self._splitter.tail()
        if block is None:
            return None
        rendered = render_block(block, code_theme=self._code_theme)
        return _spaced(rendered) if self._printed and block.opens else rendered

    def _print(self, block: Block) -> None:
        rendered = render_block(block, code_theme=self._code_theme)
        self._commit(_spaced(rendered) if self._printed and block.opens else rendered)
        self._printed = True


def _spaced(renderable: RenderableType) -> RenderableType:
    from rich.console import Group
    from rich.text import Text

    return Group(Text(""), renderable)
