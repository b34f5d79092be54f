from __future__ import annotations

import stat
from pathlib import Path

import pytest

from glmcode.tools.apply_patch import TOOL
from glmcode.tools.base import ToolContext, ToolError, ToolResult
from glmcode.tools.patch_format import AddFile, DeleteFile, UpdateFile, parse_patch


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    return root


def patch(ws: Path, text: str) -> ToolResult:
    return TOOL.run(TOOL.validate({"patch": text}), ToolContext(ws))


def patch_error(ws: Path, text: str) -> str:
    with pytest.raises(ToolError) as info:
        patch(ws, text)
    message = str(info.value)
    assert message.endswith("no file was changed.")
    return message


def snapshot(ws: Path) -> dict[str, bytes]:
    return {str(p.relative_to(ws)): p.read_bytes() for p in sorted(ws.rglob("*")) if p.is_file()}


CALC = """def add(a, b):
    return a + b


def sub(a, b):
    return a - b


def mul(a, b):
    return a * b
"""


def test_schema_has_exactly_the_declared_parameters() -> None:
    params = TOOL.schema()["function"]["parameters"]
    assert set(params["properties"]) == {"patch"}
    assert params["required"] == ["patch"]
    assert TOOL.kind == "edit" and TOOL.preview is not None
    assert len(TOOL.description.encode()) <= 700


def test_add_delete_update_and_move_across_files(ws: Path) -> None:
    (ws / "calc.py").write_text(CALC)
    (ws / "old.txt").write_text("bye\n")
    (ws / "notes").mkdir()
    (ws / "notes" / "todo.md").write_text("# Todo\n- one\n- two\n")
    result = patch(ws, """*** Begin Patch
*** Add File: docs/readme.md
+# Calc
+
+Adds and subtracts.
*** Delete File: old.txt
*** Update File: calc.py
@@ def sub(a, b):
-    return a - b
+    return a - b  # difference
*** Update File: notes/todo.md
*** Move to: archive/done.md
@@
 # Todo
-- one
+- one (done)
 - two
*** End Patch
""")
    assert (ws / "docs/readme.md").read_text() == "# Calc\n\nAdds and subtracts.\n"
    assert not (ws / "old.txt").exists()
    assert (ws / "calc.py").read_text() == CALC.replace("a - b\n", "a - b  # difference\n")
    assert not (ws / "notes/todo.md").exists()
    assert (ws / "archive/done.md").read_text() == "# Todo\n- one (done)\n- two\n"
    assert result.output.splitlines() == [
        "Applied the patch to 4 files:",
        "  added docs/readme.md",
        "  deleted old.txt",
        "  updated calc.py",
        "  moved notes/todo.md -> archive/done.md (and updated)",
    ]
    assert result.data == {
        "added": ["docs/readme.md"],
        "updated": ["calc.py"],
        "deleted": ["old.txt"],
        "moved": [["notes/todo.md", "archive/done.md"]],
    }
    diff = result.diff or ""
    assert "--- /dev/null\n+++ b/docs/readme.md\n" in diff
    assert "--- a/old.txt\n+++ /dev/null\n" in diff
    assert "--- a/notes/todo.md\n+++ b/archive/done.md\n" in diff
    assert "-    return a - b\n+    return a - b  # difference\n" in diff


def test_failure_in_the_second_file_touches_nothing(ws: Path) -> None:
    (ws / "a.py").write_bytes(b"alpha = 1\r\nbeta = 2\r\n")
    (ws / "b.py").write_text("one\ntwo\nthree\nfour\n")
    before = snapshot(ws)
    message = patch_error(ws, """*** Begin Patch
*** Update File: a.py
-alpha = 1
+alpha = 10
*** Add File: c.py
+new
*** Update File: b.py
 two
-three
+THREE
 five
*** End Patch""")
    assert snapshot(ws) == before
    assert "b.py, chunk 1 (patch line 8)" in message
    assert "the line 'five' (patch line 11) did not match line 4 of the file, which is 'four'" in message
    assert "     4\tfour" in message


def test_first_line_not_found_names_where_the_search_started(ws: Path) -> None:
    (ws / "calc.py").write_text(CALC)
    message = patch_error(ws, """*** Begin Patch
*** Update File: calc.py
@@ def mul(a, b):
-    return a / b
+    return a // b
*** End Patch""")
    assert "calc.py, chunk 1 (patch line 3)" in message
    assert "the line '    return a / b' (patch line 4) was not found after line 9." in message
    assert "The file from line 10:\n    10\t    return a * b" in message


def test_chunks_out_of_order_are_explained(ws: Path) -> None:
    (ws / "calc.py").write_text(CALC)
    message = patch_error(ws, """*** Begin Patch
*** Update File: calc.py
@@
 def mul(a, b):
-    return a * b
+    return b * a
@@
 def add(a, b):
-    return a + b
+    return b + a
*** End Patch""")
    assert "chunk 2 (patch line 7)" in message
    assert "It is at line 1, before the previous chunk" in message


def test_whitespace_differences_are_forgiven(ws: Path) -> None:
    (ws / "calc.py").write_text(CALC.replace("def sub(a, b):\n", "def sub(a, b):   \n"))
    patch(ws, """*** Begin Patch
*** Update File: calc.py
@@
 def sub(a, b):
-  return a - b
+    return b - a
*** End Patch""")
    assert "def sub(a, b):   \n    return b - a\n" in (ws / "calc.py").read_text()


def test_typographic_punctuation_is_forgiven(ws: Path) -> None:
    (ws / "t.md").write_text("Range 1\u20132 \u201cquoted\u201d\nnext\n")
    patch(ws, """*** Begin Patch
*** Update File: t.md
-Range 1-2 "quoted"
+Range 1-3
 next
*** End Patch""")
    assert (ws / "t.md").read_text() == "Range 1-3\nnext\n"


def test_anchor_picks_the_right_one_of_repeated_lines(ws: Path) -> None:
    (ws / "calc.py").write_text(CALC.replace("a - b", "a + b"))
    patch(ws, """*** Begin Patch
*** Update File: calc.py
@@ def sub(a, b):
-    return a + b
+    return a - b
*** End Patch""")
    assert (ws / "calc.py").read_text() == CALC


def test_end_of_file_anchors_the_chunk_at_the_end(ws: Path) -> None:
    (ws / "list.txt").write_text("x\nend\ny\nend\n")
    patch(ws, """*** Begin Patch
*** Update File: list.txt
@@
-end
+END
*** End of File
*** End Patch""")
    assert (ws / "list.txt").read_text() == "x\nend\ny\nEND\n"
    message = patch_error(ws, """*** Begin Patch
*** Update File: list.txt
-x
+X
*** End of File
*** End Patch""")
    assert "with '*** End of File' the chunk must end the file" in message


def test_added_lines_without_context_go_to_the_end(ws: Path) -> None:
    (ws / "log.txt").write_text("first\n")
    patch(ws, "*** Begin Patch\n*** Update File: log.txt\n@@\n+second\n*** End Patch\n")
    assert (ws / "log.txt").read_text() == "first\nsecond\n"


def test_crlf_file_stays_crlf_and_missing_final_newline_stays_missing(ws: Path) -> None:
    (ws / "win.txt").write_bytes(b"one\r\ntwo\r\nthree\r\n")
    (ws / "bare.txt").write_bytes(b"one\ntwo")
    patch(ws, """*** Begin Patch
*** Update File: win.txt
 one
-two
+2
+2.5
 three
*** Update File: bare.txt
 one
-two
+three
*** End Patch""")
    assert (ws / "win.txt").read_bytes() == b"one\r\n2\r\n2.5\r\nthree\r\n"
    assert (ws / "bare.txt").read_bytes() == b"one\nthree"


def test_latin1_bytes_survive_a_patch_elsewhere(ws: Path) -> None:
    original = b"# caf\xe9\nx = 1\n"
    (ws / "l.py").write_bytes(original)
    patch(ws, "*** Begin Patch\n*** Update File: l.py\n-x = 1\n+x = 2\n*** End Patch")
    assert (ws / "l.py").read_bytes() == b"# caf\xe9\nx = 2\n"


def test_update_keeps_mode_and_leaves_no_temp_files(ws: Path) -> None:
    (ws / "run.sh").write_text("#!/bin/sh\necho a\n")
    (ws / "run.sh").chmod(0o755)
    patch(ws, "*** Begin Patch\n*** Update File: run.sh\n-echo a\n+echo b\n*** End Patch")
    assert stat.S_IMODE((ws / "run.sh").stat().st_mode) == 0o755
    assert sorted(p.name for p in ws.iterdir()) == ["run.sh"]


def test_fenced_heredoc_crlf_and_loose_envelope_are_accepted(ws: Path) -> None:
    (ws / "a.txt").write_text("old\n")
    patch(ws, "```\n*** Begin Patch\n*** Update File: a.txt\n-old\n+new\n*** End Patch\n```\n")
    assert (ws / "a.txt").read_text() == "new\n"
    patch(ws, "apply_patch <<'EOF'\n*** Begin Patch\n*** Update File: a.txt\n-new\n+newer\n*** End Patch\nEOF")
    assert (ws / "a.txt").read_text() == "newer\n"
    patch(ws, "\n\n  *** Begin Patch  \r\n*** Update File: a.txt\r\n-newer\r\n+newest\r\n\r\n*** End Patch")
    assert (ws / "a.txt").read_text() == "newest\n"


def test_blank_context_lines_without_their_space_still_match(ws: Path) -> None:
    (ws / "calc.py").write_text(CALC)
    patch(ws, """*** Begin Patch
*** Update File: calc.py
@@
     return a + b


 def sub(a, b):
-    return a - b
+    return a - b - 0
*** End Patch""")
    assert "return a - b - 0\n" in (ws / "calc.py").read_text()


def test_unified_diff_hunk_headers_are_tolerated(ws: Path) -> None:
    (ws / "calc.py").write_text(CALC)
    patch(ws, """*** Begin Patch
*** Update File: calc.py
@@ -9,2 +9,2 @@ def mul(a, b):
-    return a * b
+    return b * a
*** End Patch""")
    assert (ws / "calc.py").read_text().endswith("return b * a\n")


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("*** Update File: a.txt\n-x\n+y\n*** End Patch", 1, "starts with the line '*** Begin Patch'"),
        ("*** Begin Patch\n*** Update File: a.txt\n-x\n+y\n", 5, "no '*** End Patch' line"),
        ("*** Begin Patch\n*** Update File: a.txt\n-x\n?y\n*** End Patch", 4, "starts with ' ', '-', '+' or '@@'"),
        ("*** Begin Patch\n*** Add File: n.txt\n+ok\nnope\n*** End Patch", 4, "starts with '+'"),
        ("*** Begin Patch\n*** Frobnicate File: a.txt\n*** End Patch", 2, "expected '*** Add File:'"),
        ("*** Begin Patch\n*** Update File:\n-x\n*** End Patch", 2, "needs a path"),
        ("*** Begin Patch\n*** Update File: a.txt\n*** End Patch", 2, "has no changes"),
        ("*** Begin Patch\n*** Update File: a.txt\n-x\n*** Move to: b.txt\n*** End Patch", 4, "right after"),
        ("*** Begin Patch\n*** Delete File: a.txt\n-x\n*** End Patch", 3, "takes no lines"),
        ("please\n*** Begin Patch\n*** Delete File: a.txt\n*** End Patch", 1, "before '*** Begin Patch'"),
        ("*** Begin Patch\n*** End Patch", 1, "changes no file"),
    ],
)
def test_parse_errors_name_the_patch_line(ws: Path, text: str, line: int, words: str) -> None:
    (ws / "a.txt").write_text("x\n")
    message = patch_error(ws, text)
    assert message.startswith(f"patch line {line}: ")
    assert words in message
    assert (ws / "a.txt").read_text() == "x\n"


def test_parser_returns_operations_in_order() -> None:
    ops = parse_patch("*** Begin Patch\n*** Add File: n\n+a\n*** Delete File: d\n*** Update File: u\n"
                      "*** Move to: v\n@@ anchor\n c\n-r\n+a\n*** End of File\n*** End Patch")
    add, delete, update = ops
    assert add == AddFile("n", 2, ("a",))
    assert delete == DeleteFile("d", 4)
    assert isinstance(update, UpdateFile) and update.move_to == "v"
    (chunk,) = update.chunks
    assert (chunk.number, chunk.anchor, chunk.at_end) == (7, "anchor", True)
    assert [line.text for line in chunk.old] == ["c", "r"] and chunk.new == ["c", "a"]


def test_adding_an_existing_file_or_deleting_a_missing_one_fails(ws: Path) -> None:
    (ws / "here.txt").write_text("x\n")
    assert "cannot add here.txt, it already exists" in patch_error(
        ws, "*** Begin Patch\n*** Add File: here.txt\n+y\n*** End Patch"
    )
    assert "file not found: hre.txt. Did you mean: here.txt?" in patch_error(
        ws, "*** Begin Patch\n*** Delete File: hre.txt\n*** End Patch"
    )
    assert (ws / "here.txt").read_text() == "x\n"


def test_moving_onto_an_existing_file_fails(ws: Path) -> None:
    (ws / "a.txt").write_text("a\n")
    (ws / "b.txt").write_text("b\n")
    message = patch_error(ws, "*** Begin Patch\n*** Update File: a.txt\n*** Move to: b.txt\n*** End Patch")
    assert "cannot move a.txt to b.txt, which already exists" in message
    assert (ws / "a.txt").read_text() == "a\n" and (ws / "b.txt").read_text() == "b\n"


def test_pure_rename_keeps_content_and_mode(ws: Path) -> None:
    (ws / "a.sh").write_text("echo\n")
    (ws / "a.sh").chmod(0o755)
    result = patch(ws, "*** Begin Patch\n*** Update File: a.sh\n*** Move to: bin/b.sh\n*** End Patch")
    assert (ws / "bin/b.sh").read_text() == "echo\n" and not (ws / "a.sh").exists()
    assert stat.S_IMODE((ws / "bin/b.sh").stat().st_mode) == 0o755
    assert result.output.splitlines()[1] == "  moved a.sh -> bin/b.sh"


def test_the_same_file_twice_is_refused(ws: Path) -> None:
    (ws / "a.txt").write_text("1\n2\n")
    message = patch_error(
        ws, "*** Begin Patch\n*** Update File: a.txt\n-1\n+one\n*** Update File: a.txt\n-2\n+two\n*** End Patch"
    )
    assert message.startswith("patch line 5: a.txt already appears at patch line 2")


def test_paths_outside_the_workspace_are_refused(ws: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "t.txt").write_text("x\n")
    (ws / "link").symlink_to(outside)
    (ws / "in.txt").write_text("in\n")
    for target in ("../outside/t.txt", "link/t.txt"):
        message = patch_error(
            ws, f"*** Begin Patch\n*** Update File: in.txt\n-in\n+IN\n*** Update File: {target}\n-x\n+y\n*** End Patch"
        )
        assert "outside the workspace" in message
    assert (outside / "t.txt").read_text() == "x\n"
    assert (ws / "in.txt").read_text() == "in\n"


def test_added_folder_is_writable(ws: Path, tmp_path: Path) -> None:
    extra = tmp_path / "extra"
    extra.mkdir()
    args = {"patch": f"*** Begin Patch\n*** Add File: {extra / 'n.txt'}\n+hi\n*** End Patch"}
    TOOL.run(args, ToolContext(ws, (extra,)))
    assert (extra / "n.txt").read_text() == "hi\n"


def test_preview_returns_the_diff_without_writing(ws: Path) -> None:
    (ws / "a.txt").write_text("old\n")
    assert TOOL.preview is not None
    diff = TOOL.preview(
        {"patch": "*** Begin Patch\n*** Update File: a.txt\n-old\n+new\n*** Add File: b.txt\n+b\n*** End Patch"},
        ToolContext(ws),
    )
    assert diff == (
        "--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-old\n+new\n"
        "--- /dev/null\n+++ b/b.txt\n@@ -0,0 +1 @@\n+b\n"
    )
    assert snapshot(ws) == {"a.txt": b"old\n"}


def test_file_level_errors_name_the_patch_line(ws: Path) -> None:
    (ws / "a.txt").write_text("a\n")
    (ws / "img.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00")
    message = patch_error(ws, "*** Begin Patch\n*** Delete File: a.txt\n*** Update File: img.png\n-x\n*** End Patch")
    assert message.startswith("patch line 3: img.png is a binary file (PNG image")
    message = patch_error(ws, "*** Begin Patch\n\n*** Add File: ../up.txt\n+x\n*** End Patch")
    assert message.startswith("patch line 3: ../up.txt resolves to")
    assert (ws / "a.txt").exists()


def test_markers_padded_with_spaces_and_tabs_are_read(ws: Path) -> None:
    (ws / "calc.py").write_text(CALC)
    (ws / "old.txt").write_text("bye\n")
    result = patch(ws, "  *** Begin Patch  \n"
                       "   *** Update File:   calc.py  \n"
                       "\t*** Move to: maths.py \t\n"
                       "@@ def mul(a, b):\n"
                       "-    return a * b\n"
                       "+    return b * a\n"
                       "  *** End of File\t\n"
                       "\t*** Add File: new.txt   \n"
                       "+hello\n"
                       "  *** Delete File: old.txt \n"
                       " *** End Patch \n")
    assert not result.is_error
    assert (ws / "maths.py").read_text().endswith("    return b * a\n")
    assert not (ws / "calc.py").exists() and not (ws / "old.txt").exists()
    assert (ws / "new.txt").read_text() == "hello\n"


def test_one_space_before_a_marker_is_a_context_line_not_a_marker(ws: Path) -> None:
    (ws / "doc.md").write_text("intro\n*** Update File: x\nend\n")
    patch(ws, "*** Begin Patch\n*** Update File: doc.md\n intro\n *** Update File: x\n-end\n+END\n*** End Patch")
    assert (ws / "doc.md").read_text() == "intro\n*** Update File: x\nEND\n"


def test_padded_markers_keep_all_or_nothing_and_the_refusal_to_add_over_a_file(ws: Path) -> None:
    (ws / "a.txt").write_text("one\n")
    (ws / "here.txt").write_text("keep me\n")
    before = snapshot(ws)
    message = patch_error(ws, "*** Begin Patch\n  *** Update File: a.txt\n-one\n+ONE\n"
                              "\t*** Add File:  here.txt \n+overwritten\n*** End Patch")
    assert "cannot add here.txt, it already exists" in message
    assert snapshot(ws) == before


def test_padded_chunk_headers_start_chunks(ws: Path) -> None:
    (ws / "calc.py").write_text(CALC)
    result = patch(ws, "*** Begin Patch\n*** Update File: calc.py\n"
                       "  @@ def sub(a, b):\n-    return a - b\n+    return b - a\n"
                       "\t@@ -9,2 +9,2 @@ def mul(a, b):\n-    return a * b\n+    return b * a\n"
                       "*** End Patch")
    assert not result.is_error, result.content
    text = (ws / "calc.py").read_text()
    assert "return b - a" in text and "return b * a" in text


DOCSTRING = '''"""The envelope:

    *** Update File: path
    *** Move to: new/path
    @@ optional anchor line
    *** End of File
"""
VERSION = 1
'''


def test_indented_lines_of_the_file_that_look_like_markers_are_context(ws: Path) -> None:
    (ws / "format.py").write_text(DOCSTRING)
    result = patch(ws, "*** Begin Patch\n*** Update File: format.py\n@@\n"
                       "     *** Update File: path\n     *** Move to: new/path\n"
                       "     @@ optional anchor line\n     *** End of File\n"
                       ' """\n-VERSION = 1\n+VERSION = 2\n*** End Patch')
    assert not result.is_error, result.content
    assert (ws / "format.py").read_text() == DOCSTRING.replace("VERSION = 1", "VERSION = 2")
    assert not (ws / "path").exists() and not (ws / "new").exists()


def test_a_padded_file_header_after_a_chunk_still_starts_the_next_file(ws: Path) -> None:
    (ws / "a.txt").write_text("one\n")
    (ws / "b.txt").write_text("two\n")
    result = patch(ws, "*** Begin Patch\n*** Update File: a.txt\n-one\n+ONE\n"
                       "    *** Update File: b.txt\n    @@\n-two\n+TWO\n*** End Patch")
    assert not result.is_error, result.content
    assert (ws / "a.txt").read_text() == "ONE\n" and (ws / "b.txt").read_text() == "TWO\n"
