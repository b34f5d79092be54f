"""The interactive session's parts that need no terminal: status numbers, tool lines,
completion, mentions, the shell escape, the command registry."""

from __future__ import annotations

import io
from pathlib import Path
from types import SimpleNamespace

from rich.console import Console

from glmcode.events import ToolCallFinished, Usage
from glmcode.ui.tui import tool_view
from glmcode.ui.tui.commands import SlashCommands, context_parts
from glmcode.ui.tui.input import CommandHint, completions
from glmcode.ui.tui.mentions import MAX_LINES, expand_mentions
from glmcode.ui.tui.recent import Recent
from glmcode.ui.tui.shell_escape import NOTE_CHARS, ShellRun, run_command
from glmcode.ui.tui.status import SessionStatus, elapsed, money, tokens


def test_status_counts_tokens_cache_and_cost_across_requests() -> None:
    status = SessionStatus("glm-4.6", "ask", 200_000)
    status.add(Usage(10_000, 200, 0, 0.01, 200_000))
    status.add(Usage(30_000, 1_300, 20_000, 0.02, 200_000))
    assert status.context_percent == 15.0
    assert status.line() == "glm-4.6 · ask · ctx 15% · 40k in · 1.5k out · 50% cached · $0.0300"
    assert [tokens(n) for n in (999, 1000, 1234, 2_500_000)] == ["999", "1k", "1.2k", "2.5M"]
    assert money(12.345) == "$12.35" and elapsed(75) == "1m 15s" and elapsed(3700) == "1h 01m"


def test_tool_targets_and_summaries() -> None:
    assert tool_view.target("run_shell", {"command": "pytest -q\n--lf"}) == "pytest -q …"
    assert tool_view.target("grep", {"pattern": "TODO", "path": "src"}) == "TODO  in src"
    patch = "*** Begin Patch\n*** Update File: a.py\n@@\n*** Add File: b.py\n+x\n*** End Patch"
    assert tool_view.target("apply_patch", {"patch": patch}) == "a.py, b.py"
    read = ToolCallFinished("1", "read_file", "...", False, 0.0, data={"first": 1, "last": 50, "total": 120})
    assert tool_view.summary(read) == "lines 1-50 of 120"
    grep = ToolCallFinished("1", "grep", "...", False, 0.0, data={"matches": 3, "files": 2})
    assert tool_view.summary(grep) == "3 matches in 2 files"
    shell = "Exit code: 0\n<stdout>\na\nb\n</stdout>\n<stderr>\nwarn\n</stderr>"
    assert tool_view.shell_lines(shell) == ["a", "b", "warn"]
    assert tool_view.shell_lines("Exit code: 0\n(no output)") == []


def test_long_diffs_are_capped_with_a_count_of_the_rest() -> None:
    diff = "--- a/x\n+++ b/x\n@@ -1,50 +1,50 @@\n" + "\n".join(f"+line {n}" for n in range(50))
    out = io.StringIO()
    Console(file=out, width=80).print(tool_view.diff_view(diff, 10))
    lines = out.getvalue().splitlines()
    assert len(lines) == 11 and lines[-1] == "… 43 more lines · /diff shows all"
    assert tool_view.diff_stat(diff) == (50, 0)


def test_completion_of_commands_and_mentioned_paths(tmp_path: Path) -> None:
    hints = [CommandHint("help", "/help", "List"), CommandHint("history", "/history", "x"), CommandHint("mode", "/mode", "m")]
    assert [c[0] for c in completions("/h", hints, tmp_path)] == ["/help", "/history"]
    assert completions("/help ", hints, tmp_path) == []
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("")
    (tmp_path / "setup.py").write_text("")
    (tmp_path / ".hidden").write_text("")
    (tmp_path / ".git").mkdir()
    assert [c[0] for c in completions("look at @s", hints, tmp_path)] == ["@setup.py", "@src/"]
    assert completions("look at @src/a", hints, tmp_path) == [("@src/app.py", -6, "")]
    assert [c[0] for c in completions("@.", hints, tmp_path)] == ["@.hidden"]
    assert completions("mail a@b", hints, tmp_path) == []


def test_completion_of_a_servers_resources_beside_the_paths(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    resources = [("docs:file:///guide.md", "guide"), ("calc:notes://today", "today")]
    assert completions("read @d", [], tmp_path, resources) == [("@docs/", -2, "folder"), ("@docs:file:///guide.md", -2, "guide")]
    assert completions("read @docs:", [], tmp_path, resources) == [("@docs:file:///guide.md", -6, "guide")]
    assert completions("read @CALC:notes", [], tmp_path, resources) == [("@calc:notes://today", -11, "today")]
    assert completions("read @calc:x", [], tmp_path, resources) == []


def test_mentions_attach_files_once_and_say_when_they_are_cut(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("print(1)\n")
    (tmp_path / "big.txt").write_text("".join(f"{n}\n" for n in range(MAX_LINES + 10)))
    (tmp_path / "blob.bin").write_bytes(b"\x00\x01\x02")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "m.py").write_text("")
    result = expand_mentions("see @a.py, @a.py and @big.txt. Also @blob.bin @pkg @missing.py me@example.com", tmp_path)
    assert [a.shown for a in result.attached] == ["a.py", "big.txt", "pkg"]
    assert result.message.startswith("see @a.py, @a.py and @big.txt.")
    assert result.message.count('<attached path="a.py" lines="1">\nprint(1)\n</attached>') == 1
    assert f"only the first {MAX_LINES} of {MAX_LINES + 10} lines are attached" in result.message
    assert f"offset={MAX_LINES + 1}" in result.message
    assert '<attached folder="pkg" entries="1">\nm.py\n</attached>' in result.message
    assert result.attached[1].truncated and not result.attached[0].truncated
    assert result.problems == (
        "@blob.bin not attached: it is a binary file",
        "@missing.py: no such file or folder here; sent as written",
    )
    assert expand_mentions("no mentions here", tmp_path).message == "no mentions here"


def test_shell_escape_runs_captures_and_notes(tmp_path: Path) -> None:
    shown: list[str] = []
    run = run_command("echo one; echo two >&2; exit 3", tmp_path, shown.append)
    assert shown == ["one", "two"] and run.exit_code == 3
    assert run.note() == "I ran `echo one; echo two >&2; exit 3` in my terminal; it exited with code 3.\n```\none\ntwo\n```"
    long = ShellRun("yes", 0, "y\n" * NOTE_CHARS, 1.0).note()
    assert "characters left out" in long and len(long) < NOTE_CHARS + 200


def test_commands_come_from_methods_with_usage_and_suggestions(tmp_path: Path) -> None:
    out = io.StringIO()
    settings = SimpleNamespace(project_root=tmp_path)
    session = SimpleNamespace(console=Console(file=out, width=100), recent=Recent(), settings=settings,
                              ws=SimpleNamespace(mcp=None))
    commands = SlashCommands(session)  # type: ignore[arg-type]
    hints = {h.name: h for h in commands.hints()}
    assert set(hints) >= {"help", "clear", "model", "mode", "cost", "context", "diff", "init", "reasoning", "last", "exit"}
    assert hints["model"].usage == "/model [NAME]" and hints["help"].usage == "/help"
    assert hints["reasoning"].summary == "Show the model's last reasoning in full."
    commands.run("/modle")
    assert "Unknown command /modle. Did you mean /model?" in out.getvalue()
    commands.run("/reasoning")
    assert "No reasoning yet." in out.getvalue()
    commands.run("/exit now")
    assert "/exit takes no argument." in out.getvalue()


def test_context_parts_measure_each_role() -> None:
    messages = [
        {"role": "system", "content": "s" * 100},
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "ok", "reasoning_content": "hmm", "tool_calls": [{"id": "1"}]},
        {"role": "tool", "tool_call_id": "1", "content": "x" * 10},
    ]
    rows = {part: (count, chars) for part, count, chars in context_parts(messages, [{"a": 1}])}
    assert rows["system prompt"] == (1, 100)
    assert rows["tool definitions"] == (1, len('[{"a": 1}]'))
    assert rows["your messages"] == (1, 2)
    assert rows["model replies"] == (1, 2 + 3 + len('{"id": "1"}'))
    assert rows["tool results"] == (1, 10)


def test_the_closest_command_name() -> None:
    from glmcode.ui.tui.commands import closest

    names = ["clear", "context", "cost", "diff", "exit", "help", "init", "last", "mode", "model", "reasoning"]
    assert closest("modle", names) == "model"
    assert closest("hepl", names) == "help"
    assert closest("reas", names) == "reasoning"
    assert closest("contxt", names) == "context"
    assert closest("xyzzy", names) is None


def test_shell_results_say_how_the_command_ended() -> None:
    failed = ToolCallFinished("1", "run_shell", "Exit code: 2\n<stderr>\nboom\n</stderr>", True, 0.1,
                              data={"exit_code": 2, "timed_out": False})
    assert tool_view.summary(failed) == "exit 2 · 1 line of output"
    slow = ToolCallFinished("1", "run_shell", "Command timed out after 5 s.\n(no output)", True, 5.0,
                            data={"exit_code": None, "timed_out": True})
    assert tool_view.summary(slow) == "timed out"
    out = io.StringIO()
    Console(file=out, width=80).print(tool_view.finished(failed, {"command": "make"}))
    assert out.getvalue() == "✗ run_shell  make  exit 2 · 1 line of output\n  boom\n"


def test_the_interactive_docs_list_every_command_and_how_to_continue() -> None:
    doc = (Path(__file__).resolve().parents[1] / "docs" / "interactive.md").read_text()
    table = doc.split("## Slash commands", 1)[1]
    for name in SlashCommands(SimpleNamespace()).names():
        assert f"| `/{name}" in table, name
    for usage in ("`glmcode -c`", "`--continue`", '`glmcode -c "PROMPT"`', "`glmcode resume`", "`glmcode resume ID`"):
        assert usage in doc, usage
    assert "](sessions.md)" in doc


def test_untracked_files_are_listed_for_diff(tmp_path: Path) -> None:
    import subprocess

    from glmcode.ui.tui.diff_command import untracked_files

    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / ".gitignore").write_text("*.log\n")
    (tmp_path / "made-by-shell.txt").write_text("x")
    (tmp_path / "noise.log").write_text("x")
    assert untracked_files(tmp_path) == [".gitignore", "made-by-shell.txt"]
