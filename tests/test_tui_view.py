"""The live area and the turn view, drawing into a Console whose ANSI output a pyte screen
reads back as a terminal would."""

from __future__ import annotations

import io

import pyte
from rich.console import Console
from rich.text import Text

from glmcode.events import (
    Error,
    ReasoningDelta,
    RunFinished,
    TextDelta,
    ToolCallFinished,
    ToolCallStarted,
    TurnFinished,
    TurnStarted,
    Usage,
)
from glmcode.ui.tui.live import SYNC_BEGIN, SYNC_END, LiveArea
from glmcode.ui.tui.recent import Recent
from glmcode.ui.tui.status import SessionStatus
from glmcode.ui.tui.turn_view import TurnView

ROWS, COLS = 40, 90


def _console() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, color_system="truecolor", width=COLS, height=ROWS)
    return console, out


def _screen(ansi: str, rows: int = ROWS) -> list[str]:
    screen = pyte.Screen(COLS, rows)
    stream = pyte.Stream(screen)
    stream.feed(ansi.replace("\n", "\r\n"))
    return [line.rstrip() for line in screen.display]


def _text(ansi: str, rows: int = ROWS) -> str:
    return "\n".join(_screen(ansi, rows)).strip("\n")


def test_committed_lines_are_printed_once_and_the_live_tail_is_erased_at_the_end() -> None:
    console, out = _console()
    tail = ["tail 1"]
    live = LiveArea(console, lambda: Text(tail[0]))
    live.refresh()
    live.commit(Text("block A"))
    tail[0] = "tail 2\nsecond line"
    live.refresh()
    live.commit(Text("block B"))
    live.refresh()
    assert _text(out.getvalue()) == "block A\nblock B\ntail 2\nsecond line"
    live.stop()
    ansi = out.getvalue()
    assert _text(ansi) == "block A\nblock B"
    assert ansi.count("block A") == 1 and ansi.count("block B") == 1
    assert "\x1b[2J" not in ansi and "\x1b[H" not in ansi, "no full-screen clear or jump home"
    assert ansi.count(SYNC_BEGIN) == ansi.count(SYNC_END) >= 3


def test_an_unchanged_live_area_is_not_redrawn() -> None:
    console, out = _console()
    live = LiveArea(console, lambda: Text("same"))
    live.refresh()
    size = len(out.getvalue())
    live.refresh()
    live.refresh()
    assert len(out.getvalue()) == size and live.frames == 1


def test_a_live_area_taller_than_the_screen_shows_its_bottom() -> None:
    console, out = _console()
    live = LiveArea(console, lambda: Text("\n".join(f"row {n}" for n in range(100))))
    live.refresh()
    shown = _screen(out.getvalue())
    assert shown[0] == f"row {100 - (ROWS - 2)}" and "row 99" in shown


def _finished(call_id: str, name: str, output: str, *, is_error: bool = False, diff: str | None = None,
              data: dict | None = None) -> ToolCallFinished:
    return ToolCallFinished(call_id, name, output, is_error, 0.1, diff, data)


def _run_events() -> list:
    diff = "--- a/app.py\n+++ b/app.py\n@@ -1,2 +1,2 @@\n def f():\n-    return 1\n+    return 2\n"
    shell_output = "Exit code: 0\n<stdout>\n" + "\n".join(f"out {n}" for n in range(1, 31)) + "\n</stdout>"
    todos = [{"content": "Read", "status": "completed"}, {"content": "Fix", "status": "in_progress"},
             {"content": "Test", "status": "pending"}]
    return [
        TurnStarted(1),
        *[ReasoningDelta(w) for w in ("I", " should", " look at", " app.py first.")],
        TextDelta("Let me **fix** it:\n\n```python\nx = 1\n```\n"),
        ToolCallStarted("c1", "todo_write", {"todos": todos}),
        _finished("c1", "todo_write", "Todo list", data={"todos": todos}),
        ToolCallStarted("c2", "edit_file", {"path": "app.py", "old_string": "1", "new_string": "2"}),
        _finished("c2", "edit_file", "Replaced 1 occurrence in app.py:\n...", diff=diff),
        ToolCallStarted("c3", "run_shell", {"command": "pytest -q"}),
        _finished("c3", "run_shell", shell_output, data={"exit_code": 0}),
        ToolCallStarted("c4", "read_file", {"path": "nope.py"}),
        _finished("c4", "read_file", "nope.py does not exist\nsimilar: nose.py", is_error=True),
        Usage(12_000, 300, 6_000, 0.0125, 200_000),
        TurnFinished(1, "stop"),
        Error("network", "the connection dropped", "check your network"),
        RunFinished("error", "", 1),
    ]


def test_a_run_leaves_compact_lines_in_the_scrollback() -> None:
    console, out = _console()
    status = SessionStatus("glm-4.6", "ask", 200_000)
    recent = Recent()
    view = TurnView(console, status, recent)
    view.begin()
    for event in _run_events():
        view.handle(event)
    view.end()
    screen = _text(out.getvalue(), rows=60)
    assert "∴ Thought for 0.0s · /reasoning shows it" in screen
    assert "Let me fix it:" in screen and "```python\nx = 1\n```" in screen
    assert "● todo_write  plan: 1/3 done\n  ✔ Read\n  ◐ Fix\n  ○ Test" in screen
    assert "● edit_file  app.py  Replaced 1 occurrence in app.py  +1 −1" in screen
    assert "  -    return 1\n  +    return 2" in screen
    assert "● run_shell  pytest -q  exit 0 · 30 lines of output" in screen
    assert "  … 26 more lines above · /last shows all\n  out 27\n  out 28\n  out 29\n  out 30" in screen
    assert "out 26" not in screen
    assert "✗ read_file  nope.py\n  nope.py does not exist\n  similar: nose.py" in screen
    assert "✗ the connection dropped\n  check your network" in screen
    assert "Thinking" not in screen and "Ctrl-C to stop" not in screen, "the live area is gone"
    assert recent.reasoning == ["I should look at app.py first."]
    assert [o.name for o in recent.outputs] == ["todo_write", "edit_file", "run_shell", "read_file"]
    assert recent.diffs[0].target == "app.py"
    assert status.prompt_tokens == 12_000 and round(status.cost_usd, 4) == 0.0125


def test_reasoning_shows_as_a_short_live_tail_then_folds() -> None:
    console, out = _console()
    view = TurnView(console, SessionStatus("glm-4.6", "ask", 200_000), Recent())
    view.handle(TurnStarted(1))
    for n in range(1, 41):
        view.handle(ReasoningDelta(f"thought number {n} is about something else entirely. "))
    view.live.refresh()
    shown = _text(out.getvalue())
    assert "thought number 40" in shown and "thought number 30" not in shown
    lines = shown.splitlines()
    reasoning = [line for line in lines if "thought number" in line]
    assert len(reasoning) <= 3
    assert "Thinking" in shown and "glm-4.6 · ask · ctx 0%" in shown
    view.handle(TextDelta("Answer."))
    view.end()
    final = _text(out.getvalue())
    assert "thought number" not in final
    assert final.endswith("Answer.")


def test_a_refused_edit_after_a_question_shows_no_diff_twice() -> None:
    from glmcode.events import ApprovalNeeded

    console, out = _console()
    view = TurnView(console, SessionStatus("glm-4.6", "ask", 200_000), Recent())
    view.begin()
    view.handle(ToolCallStarted("c1", "edit_file", {"path": "a.py"}))
    view.handle(ApprovalNeeded("c1", "edit_file", "asks", "--- a/a.py\n+++ b/a.py\n@@ -1 +1 @@\n-x\n+y\n"))
    view.pause()
    view.resume()
    view.handle(_finished("c1", "edit_file", "Replaced 1 occurrence", diff="--- a/a.py\n+++ b/a.py\n@@ -1 +1 @@\n-x\n+y\n"))
    view.end()
    screen = _text(out.getvalue())
    assert "● edit_file  a.py  Replaced 1 occurrence  +1 −1" in screen
    assert "+y" not in screen


def _compaction_events() -> list:
    from glmcode.agent.compaction import SUMMARY_HEADER
    from glmcode.events import Compacted, MessageAdded, Notice

    asked = [MessageAdded({"role": "user", "content": "go on"})]
    kept = [{"role": "user", "content": f"{SUMMARY_HEADER}\n\n## Goal\n..."}, {"role": "user", "content": "go on"}]
    return [
        *asked,
        Usage(150_000, 900, 0, 0.09, 200_000),  # the summary request
        Compacted(182_000, 31_500, "## Goal\n...", kept),
        Notice("Compacted the conversation: 7 older messages were replaced by a summary ...", "info"),
        TurnStarted(1),
        TextDelta("Carrying on."),
        TurnFinished(1, "stop"),
    ]


def test_a_compaction_shows_as_one_dim_line_and_the_context_share_drops() -> None:
    from glmcode.events import Compacted

    console, out = _console()
    status = SessionStatus("glm-4.6", "ask", 200_000)
    status.add(Usage(182_000, 100, 0, 0.1, 200_000))
    view = TurnView(console, status, Recent(), messages=8)
    view.begin()
    events = _compaction_events()
    for event in events:
        view.handle(event)
        if isinstance(event, Compacted):
            assert "ctx 16%" in status.line()  # 31,500 of 200,000 at once, before any request measures it
    view.end()
    screen = _text(out.getvalue())
    assert "compacted: 7 messages summarised, ~182k → ~31.5k tokens" in screen
    assert screen.count("compacted") == 1 and "older messages were replaced" not in screen
    assert "Carrying on." in screen


def test_a_compaction_that_only_cut_tool_results_says_so_in_plain_text() -> None:
    from glmcode.events import Compacted, Notice
    from glmcode.ui.tui.plain_view import PlainView

    out = io.StringIO()
    status = SessionStatus("glm-4.6", "ask", 200_000)
    view = PlainView(Console(file=out, color_system=None, width=COLS), status, Recent(), messages=4)
    view.begin()
    kept = [{"role": "user", "content": "read it all"}, {"role": "assistant", "content": ""},
            {"role": "tool", "tool_call_id": "c1", "content": "cut"}]
    view.handle(Compacted(170_000, 60_000, "", kept))
    view.handle(Notice("Cut 1 long tool result(s) in the latest turns to fit the context window: ...", "info"))
    view.handle(Notice("Something else the user should know.", "info"))
    view.end()
    text = out.getvalue()
    assert "compacted: long tool results cut, ~170k → ~60k tokens" in text
    assert "Cut 1 long tool result" not in text and "Something else the user should know." in text
    assert "ctx 30%" in text
