from __future__ import annotations

import stat
from pathlib import Path

import pytest

from glmcode.tools.base import ToolContext, ToolError, ToolResult
from glmcode.tools.edit_file import TOOL


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    return root


def edit(ws: Path, path: str, old: str, new: str, **kw: object) -> ToolResult:
    args = TOOL.validate({"path": path, "old_string": old, "new_string": new, **kw})
    return TOOL.run(args, ToolContext(ws))


def edit_error(ws: Path, path: str, old: str, new: str, **kw: object) -> str:
    with pytest.raises(ToolError) as info:
        edit(ws, path, old, new, **kw)
    return str(info.value)


SOURCE = """import os


def greet(name):
    message = "hello " + name
    print(message)
    return message


def main():
    greet("world")
"""


def test_schema_has_exactly_the_declared_parameters() -> None:
    params = TOOL.schema()["function"]["parameters"]
    assert set(params["properties"]) == {"path", "old_string", "new_string", "replace_all"}
    assert params["required"] == ["path", "old_string", "new_string"]
    assert params["properties"]["replace_all"]["type"] == "boolean"
    assert TOOL.kind == "edit" and TOOL.preview is not None
    assert len(TOOL.description.encode()) <= 700


def test_unique_replacement_reports_a_numbered_snippet_and_diff(ws: Path) -> None:
    (ws / "app.py").write_text(SOURCE)
    result = edit(ws, "app.py", '    print(message)\n', '    log(message)\n')
    assert (ws / "app.py").read_text() == SOURCE.replace("print(message)", "log(message)")
    assert result.output.splitlines() == [
        "Replaced 1 occurrence in app.py:",
        "     4\tdef greet(name):",
        '     5\t    message = "hello " + name',
        "     6\t    log(message)",
        "     7\t    return message",
        "     8\t",
    ]
    assert result.diff is not None
    assert result.diff.startswith("--- a/app.py\n+++ b/app.py\n@@ -3,7 +3,7 @@\n")
    assert "-    print(message)\n+    log(message)\n" in result.diff


def test_crlf_file_is_matched_with_lf_and_written_back_crlf(ws: Path) -> None:
    (ws / "win.txt").write_bytes(b"one\r\ntwo\r\nthree\r\n")
    edit(ws, "win.txt", "one\ntwo\n", "one\nTWO\nextra\n")
    assert (ws / "win.txt").read_bytes() == b"one\r\nTWO\r\nextra\r\nthree\r\n"


def test_missing_final_newline_stays_missing(ws: Path) -> None:
    (ws / "a.txt").write_bytes(b"first\nlast")
    edit(ws, "a.txt", "last", "last\nadded\n")
    assert (ws / "a.txt").read_bytes() == b"first\nlast\nadded"


def test_final_newline_stays_when_the_edit_drops_it(ws: Path) -> None:
    (ws / "a.txt").write_bytes(b"first\nlast\n")
    edit(ws, "a.txt", "last\n", "end")
    assert (ws / "a.txt").read_bytes() == b"first\nend\n"


def test_utf8_bom_is_kept(ws: Path) -> None:
    (ws / "bom.cs").write_bytes(b"\xef\xbb\xbfclass A {}\n")
    edit(ws, "bom.cs", "class A", "class B")
    assert (ws / "bom.cs").read_bytes() == b"\xef\xbb\xbfclass B {}\n"


def test_latin1_bytes_survive_an_edit_elsewhere(ws: Path) -> None:
    original = b"# caf\xe9 cr\xe8me\nvalue = 1\n# na\xefve \xff\xfe\n"
    (ws / "legacy.py").write_bytes(original)
    edit(ws, "legacy.py", "value = 1", "value = 2")
    assert (ws / "legacy.py").read_bytes() == original.replace(b"value = 1", b"value = 2")


def test_latin1_file_refuses_characters_it_cannot_hold(ws: Path) -> None:
    original = b"caf\xe9\n"
    (ws / "l.txt").write_bytes(original)
    assert "Latin-1" in edit_error(ws, "l.txt", "caf", "\u2192 caf")
    assert (ws / "l.txt").read_bytes() == original


def test_no_match_shows_the_closest_region(ws: Path) -> None:
    (ws / "app.py").write_text(SOURCE)
    message = edit_error(ws, "app.py", 'def greet(nam):\n    mesage = "helo " + name\n', "x")
    assert message.startswith("old_string was not found in app.py.")
    assert "The closest region is lines 4-5" in message
    assert '     4\tdef greet(name):\n     5\t    message = "hello " + name' in message
    assert (ws / "app.py").read_text() == SOURCE


def test_no_match_that_differs_only_in_whitespace_says_so(ws: Path) -> None:
    (ws / "app.py").write_text(SOURCE)
    message = edit_error(ws, "app.py", 'def main():\n  greet("world")', "x")
    assert "matches lines 10-11 if whitespace is ignored" in message
    assert "indentation or spacing differs" in message
    assert '    11\t    greet("world")' in message


def test_tabs_against_spaces_are_named(ws: Path) -> None:
    (ws / "Makefile").write_text("all:\n\tcc -o app main.c\n")
    message = edit_error(ws, "Makefile", "all:\n    cc -o app main.c\n", "x")
    assert "the file indents with tabs, old_string with spaces" in message


def test_line_number_prefixes_are_pointed_out(ws: Path) -> None:
    (ws / "app.py").write_text(SOURCE)
    message = edit_error(ws, "app.py", "    10\tdef main():\n    11\t    greet(\"world\")\n", "x")
    assert "line numbers copied from read_file" in message


def test_nothing_similar_says_so(ws: Path) -> None:
    (ws / "app.py").write_text(SOURCE)
    assert "Nothing in the file resembles it." in edit_error(ws, "app.py", "ZZZZ@@@@QQQQ", "x")


def test_closest_region_is_found_in_a_large_file(ws: Path) -> None:
    lines = [f"    value_{i} = compute({i}, factor={i % 7})" for i in range(30_000)]
    (ws / "big.py").write_text("\n".join(lines) + "\n")
    message = edit_error(ws, "big.py", "    value_21234 = compute(21234, factor=5)\n", "x")
    assert "The closest region is line 21235 " in message


def test_several_matches_are_listed_with_line_numbers(ws: Path) -> None:
    (ws / "a.py").write_text("x = 1\ny = 2\nx = 1\n\nx = 1\n")
    message = edit_error(ws, "a.py", "x = 1", "x = 3")
    assert message.startswith("old_string occurs 3 times in a.py (at lines 1, 3, 5)")
    assert "replace_all" in message
    assert (ws / "a.py").read_text() == "x = 1\ny = 2\nx = 1\n\nx = 1\n"


def test_replace_all_replaces_every_occurrence(ws: Path) -> None:
    (ws / "a.py").write_text("old()\nkeep()\nold()\nold()\n")
    result = edit(ws, "a.py", "old", "new", replace_all=True)
    assert (ws / "a.py").read_text() == "new()\nkeep()\nnew()\nnew()\n"
    assert result.output.startswith("Replaced 3 occurrences in a.py; the first is now:\n     1\tnew()")
    assert result.data == {"path": "a.py", "replacements": 3}


def test_same_old_and_new_is_an_error(ws: Path) -> None:
    (ws / "a.txt").write_text("a\n")
    assert "the same" in edit_error(ws, "a.txt", "a", "a")


def test_empty_old_string_creates_a_missing_file(ws: Path) -> None:
    result = edit(ws, "new/file.txt", "", "hello\nworld\n")
    assert (ws / "new/file.txt").read_text() == "hello\nworld\n"
    assert result.output == "Created new/file.txt (2 lines)."


def test_empty_old_string_fills_an_empty_file_but_not_a_full_one(ws: Path) -> None:
    (ws / "empty.txt").write_text("")
    edit(ws, "empty.txt", "", "content\n")
    assert (ws / "empty.txt").read_text() == "content\n"
    assert "old_string is empty but empty.txt is not" in edit_error(ws, "empty.txt", "", "x")


def test_missing_file_with_old_string_suggests_names(ws: Path) -> None:
    (ws / "main.py").write_text("x\n")
    message = edit_error(ws, "mian.py", "x", "y")
    assert "file not found: mian.py" in message and "main.py" in message


def test_binary_file_is_refused(ws: Path) -> None:
    (ws / "img.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    assert "binary file (PNG image" in edit_error(ws, "img.png", "PNG", "GIF")


def test_edit_keeps_mode_and_leaves_no_temp_files(ws: Path) -> None:
    script = ws / "run.sh"
    script.write_text("#!/bin/sh\necho a\n")
    script.chmod(0o755)
    edit(ws, "run.sh", "echo a", "echo b")
    assert stat.S_IMODE(script.stat().st_mode) == 0o755
    assert sorted(p.name for p in ws.iterdir()) == ["run.sh"]


def test_symlink_out_of_the_workspace_is_refused(ws: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("token = 1\n")
    (ws / "innocent.txt").symlink_to(secret)
    assert "outside the workspace" in edit_error(ws, "innocent.txt", "1", "2")
    assert "outside the workspace" in edit_error(ws, "../secret.txt", "1", "2")
    assert secret.read_text() == "token = 1\n"


def test_added_folder_is_writable(ws: Path, tmp_path: Path) -> None:
    extra = tmp_path / "lib"
    extra.mkdir()
    (extra / "x.txt").write_text("a\n")
    args = {"path": str(extra / "x.txt"), "old_string": "a", "new_string": "b"}
    TOOL.run(TOOL.validate(args), ToolContext(ws, (extra,)))
    assert (extra / "x.txt").read_text() == "b\n"


def test_preview_returns_the_diff_without_writing(ws: Path) -> None:
    (ws / "a.txt").write_text("alpha\nbeta\n")
    assert TOOL.preview is not None
    diff = TOOL.preview({"path": "a.txt", "old_string": "beta", "new_string": "gamma"}, ToolContext(ws))
    assert diff == "--- a/a.txt\n+++ b/a.txt\n@@ -1,2 +1,2 @@\n alpha\n-beta\n+gamma\n"
    assert (ws / "a.txt").read_text() == "alpha\nbeta\n"
