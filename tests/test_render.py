"""The streaming Markdown renderer, with a rich Console writing to a StringIO."""

from __future__ import annotations

import io
import random
import re

from rich.console import Console

from glmcode.ui.render import TAIL_CHARS, Block, BlockSplitter, MarkdownStream

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")

ANSWER = """# Plan

First we read the **config** and call `load()`.
It returns a dict.

- one
- two

```python
def add(a, b):
    return a + b
```

| name | size |
|------|------|
| a.py | 10   |

Done."""


def _console(terminal: bool = False, width: int = 70) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, width=width, force_terminal=terminal, color_system="truecolor" if terminal else None), out


def _stream(text: str, chunks: list[int] | None = None, **kwargs: object) -> tuple[str, list[object], MarkdownStream]:
    console, out = _console()
    committed: list[object] = []

    def commit(renderable: object) -> None:
        committed.append(renderable)
        console.print(renderable)

    stream = MarkdownStream(commit, **kwargs)  # type: ignore[arg-type]
    i = 0
    sizes = iter(chunks or [])
    while i < len(text):
        n = next(sizes, 3)
        stream.feed(text[i : i + n])
        i += n
    stream.finish()
    return out.getvalue(), committed, stream


def _render(renderable: object, width: int = 70) -> str:
    console, out = _console(width=width)
    console.print(renderable)
    return out.getvalue()


def test_answer_renders_as_markdown_with_code_and_no_markup_left() -> None:
    text, _, _ = _stream(ANSWER)
    assert "Plan" in text and "# Plan" not in text
    assert "First we read the config and call load(). It returns a dict." in text
    assert "**" not in text
    assert " • one" in text and " • two" in text
    assert "```python\ndef add(a, b):\n    return a + b\n```" in text
    assert "a.py" in text and "size" in text
    assert text.rstrip().endswith("Done.")
    assert not any(line != line.rstrip() for line in text.splitlines()), "lines carry trailing spaces"


def test_chunking_does_not_change_the_output() -> None:
    whole, _, _ = _stream(ANSWER, [len(ANSWER)])
    rng = random.Random(7)
    for _ in range(20):
        sizes = [rng.randint(1, 9) for _ in range(len(ANSWER))]
        assert _stream(ANSWER, sizes)[0] == whole


def test_each_finished_block_is_committed_once_and_in_order() -> None:
    blocks: list[Block] = []
    splitter = BlockSplitter()
    for ch in ANSWER:
        blocks += splitter.feed(ch)
    assert [b.kind for b in blocks] == ["markdown", "markdown", "markdown", "code", "markdown"]
    assert blocks[0].text == "# Plan"
    assert blocks[3] == Block("code", "def add(a, b):\n    return a + b", "python")
    tail = splitter.tail()
    assert tail is not None and tail.text == "Done."
    blocks += splitter.finish()
    assert blocks[-1].text == "Done." and splitter.tail() is None


def test_a_block_is_committed_when_it_ends_not_before() -> None:
    splitter = BlockSplitter()
    assert splitter.feed("A paragraph that goes on") == []
    assert splitter.tail() == Block("markdown", "A paragraph that goes on")
    assert splitter.feed("\nand on.\n") == []
    assert [b.text for b in splitter.feed("\n")] == ["A paragraph that goes on\nand on."]
    assert splitter.feed("```sh\nls\n") == []
    tail = splitter.tail()
    assert tail == Block("code", "ls", "sh", opens=True, closes=False)
    assert splitter.feed("```\n") == [Block("code", "ls", "sh")]


def test_tail_shows_the_unfinished_text_rendered() -> None:
    console, out = _console()
    stream = MarkdownStream(console.print)
    stream.feed("Intro.\n\nSome **bold")
    tail = stream.tail_renderable()
    assert tail is not None
    assert out.getvalue() == "Intro.\n"
    shown = _render(tail)
    assert shown == "\nSome **bold\n"  # a blank line keeps its place below the committed block
    stream.feed("** text")
    assert _render(stream.tail_renderable()) == "\nSome bold text\n"


def test_long_code_block_is_committed_in_parts_and_the_tail_stays_small() -> None:
    lines = [f"x_{n} = {n}" for n in range(500)]
    splitter = BlockSplitter(max_lines=40)
    parts: list[Block] = splitter.feed("```python\n")
    for line in lines:
        parts += splitter.feed(line + "\n")
        tail = splitter.tail()
        assert tail is not None and tail.text.count("\n") < 40
    parts += splitter.feed("```\n")
    assert all(p.kind == "code" and p.lang == "python" for p in parts)
    assert [p.opens for p in parts].count(True) == 1 and parts[0].opens
    assert [p.closes for p in parts].count(True) == 1 and parts[-1].closes
    assert "\n".join(p.text for p in parts).split("\n") == lines


def test_long_code_block_prints_every_line_once_with_one_pair_of_fences() -> None:
    code = "\n".join(f"print({n})" for n in range(300))
    text, committed, _ = _stream(f"Here:\n\n```python\n{code}\n```\n\nBye.", max_lines=20)
    assert text.count("```python") == 1 and text.count("```\n") == 1
    for n in range(300):
        assert text.count(f"print({n})\n") == 1
    assert len(committed) > 10


def test_long_list_is_cut_between_items() -> None:
    items = "\n".join(f"- item {n}\n  more about {n}" for n in range(100))
    splitter = BlockSplitter(max_lines=20)
    blocks = splitter.feed(items + "\n") + splitter.finish()
    assert len(blocks) > 3
    for block in blocks:
        assert block.text.startswith("- item"), block.text[:30]
    text, _, _ = _stream(items, max_lines=20)
    assert text.count(" • ") == 100 and "\n\n" not in text.strip()


def test_a_table_is_never_cut() -> None:
    rows = "\n".join(f"| r{n} | {n} |" for n in range(80))
    splitter = BlockSplitter(max_lines=10)
    blocks = splitter.feed("| a | b |\n|---|---|\n" + rows + "\n\n")
    assert len(blocks) == 1 and blocks[0].text.count("\n") == 81


def test_an_endless_line_keeps_the_tail_bounded_but_commits_it_whole() -> None:
    splitter = BlockSplitter()
    for _ in range(5000):
        splitter.feed("word ")
    tail = splitter.tail()
    assert tail is not None and len(tail.text) <= TAIL_CHARS
    [block] = splitter.finish()
    assert len(block.text) == 5 * 5000 and block.text.count("word") == 5000


def test_code_fence_inside_a_list_item_is_dedented() -> None:
    splitter = BlockSplitter()
    blocks = splitter.feed("1. Run:\n\n   ```bash\n   make test\n   ```\n")
    assert blocks[-1] == Block("code", "make test", "bash")


def test_unknown_language_and_unclosed_fence_still_render() -> None:
    text, _, _ = _stream("```nosuchlang\nkeep me\n")
    assert text == "```nosuchlang\nkeep me\n```\n"


def test_terminal_output_highlights_code_and_plain_output_has_no_ansi() -> None:
    console, out = _console(terminal=True)
    stream = MarkdownStream(console.print)
    stream.feed("Use `x`:\n\n```python\nimport os\nprint(os.sep)\n```\n")
    stream.finish()
    colored = out.getvalue()
    assert "\x1b[" in colored
    assert "import" in ANSI.sub("", colored)
    plain, _, _ = _stream("Use `x`:\n\n```python\nimport os\n```\n")
    assert "\x1b" not in plain


def test_headings_stay_at_the_left_margin() -> None:
    text, _, _ = _stream("# Big title\n\nBody.\n")
    assert text.startswith("Big title")


def test_a_list_item_too_long_to_cut_stays_whole_and_the_tail_stays_bounded() -> None:
    splitter = BlockSplitter(max_lines=10)
    blocks = splitter.feed("- one item\n" + "".join(f"  continued {n}\n" for n in range(100)))
    assert blocks == []
    tail = splitter.tail()
    assert tail is not None and tail.text.count("\n") < 10 and tail.text.endswith("continued 99")
    blocks = splitter.feed("- next item\n" + "".join(f"  more {n}\n" for n in range(20)))
    assert len(blocks) == 1 and blocks[0].text.startswith("- one item") and blocks[0].text.endswith("continued 99")
    [rest] = splitter.finish()
    assert rest.text.startswith("- next item") and not rest.opens
