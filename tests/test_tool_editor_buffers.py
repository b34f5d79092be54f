"""The edit tools inside an editor: reads see its buffers, writes go to them, in the file's
own conventions; what an editor cannot hold (binary files, deletions, moves) stays on disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from glmcode.tools import apply_patch, edit_file, read_file, write_file
from glmcode.tools.base import ToolContext, ToolError


class Buffers:
    """An editor's open buffers by path; a file not open is read from disk, as editors do."""

    def __init__(self, writes: bool = True, fail_on: str | None = None) -> None:
        self.text: dict[Path, str] = {}
        self.writes = writes
        self.written: list[Path] = []
        self.fail_on = fail_on

    def read_text(self, path: Path) -> str | None:
        return self.text.get(path)

    def write_text(self, path: Path, text: str) -> None:
        if self.fail_on is not None and path.name == self.fail_on:
            raise ToolError("the buffer is read-only")
        self.text[path] = text
        self.written.append(path)


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    return root.resolve()


def run(tool, ws: Path, editor: Buffers, **args: object):  # type: ignore[no-untyped-def]
    return tool.TOOL.run(tool.TOOL.validate(args), ToolContext(ws, editor=editor))


def test_read_file_shows_the_unsaved_buffer(ws: Path) -> None:
    (ws / "a.py").write_text("saved\n")
    editor = Buffers()
    editor.text[ws / "a.py"] = "unsaved\nsecond\n"
    out = run(read_file, ws, editor, path="a.py").output
    assert out.startswith("     1\tunsaved\n     2\tsecond\n")


def test_an_edit_of_a_crlf_file_with_a_bom_keeps_them(ws: Path) -> None:
    (ws / "w.txt").write_bytes(b"\xef\xbb\xbfone\r\ntwo\r\n")
    editor = Buffers()
    editor.text[ws / "w.txt"] = "one\ntwo\n"  # the editor's buffer uses plain newlines
    run(edit_file, ws, editor, path="w.txt", old_string="two", new_string="TWO")
    assert editor.text[ws / "w.txt"] == "one\r\nTWO\r\n"
    assert (ws / "w.txt").read_bytes() == b"\xef\xbb\xbfone\r\ntwo\r\n"


def test_a_new_file_is_created_in_the_editor(ws: Path) -> None:
    editor = Buffers()
    run(write_file, ws, editor, path="new.txt", content="hi\n")
    assert editor.text[ws / "new.txt"] == "hi\n" and not (ws / "new.txt").exists()


def test_an_editor_that_does_not_write_leaves_writes_to_the_disk(ws: Path) -> None:
    (ws / "a.txt").write_text("old\n")
    editor = Buffers(writes=False)
    editor.text[ws / "a.txt"] = "old, edited\n"
    run(edit_file, ws, editor, path="a.txt", old_string="edited", new_string="kept")
    assert (ws / "a.txt").read_text() == "old, kept\n"  # the buffer's text, written to disk
    assert editor.written == []


def test_a_binary_file_is_never_read_through_the_editor(ws: Path) -> None:
    (ws / "b.bin").write_bytes(b"\x00\x01")
    editor = Buffers()
    editor.text[ws / "b.bin"] = "nonsense"
    with pytest.raises(ToolError, match="binary"):
        run(edit_file, ws, editor, path="b.bin", old_string="x", new_string="y")


def test_a_patch_that_deletes_goes_to_the_disk_whole(ws: Path) -> None:
    (ws / "keep.txt").write_text("a\n")
    (ws / "gone.txt").write_text("b\n")
    editor = Buffers()
    patch = ("*** Begin Patch\n*** Update File: keep.txt\n@@\n-a\n+A\n"
             "*** Delete File: gone.txt\n*** End Patch\n")
    run(apply_patch, ws, editor, patch=patch)
    assert (ws / "keep.txt").read_text() == "A\n" and not (ws / "gone.txt").exists()
    assert editor.written == []


def test_a_failed_write_puts_back_the_buffers_already_changed(ws: Path) -> None:
    (ws / "one.txt").write_text("1\n")
    (ws / "two.txt").write_text("2\n")
    editor = Buffers(fail_on="two.txt")
    patch = ("*** Begin Patch\n*** Update File: one.txt\n@@\n-1\n+one\n"
             "*** Update File: two.txt\n@@\n-2\n+two\n*** End Patch\n")
    with pytest.raises(ToolError, match="could not write .*two.txt: the buffer is read-only"):
        run(apply_patch, ws, editor, patch=patch)
    assert editor.text[ws / "one.txt"] == "1\n"


def test_a_buffer_changed_after_the_read_is_not_overwritten(ws: Path) -> None:
    (ws / "a.txt").write_text("x\n")

    class Moving(Buffers):
        reads = 0

        def read_text(self, path: Path) -> str | None:
            self.reads += 1
            return "x\n" if self.reads == 1 else "x and more typed\n"

    moving = Moving()
    with pytest.raises(ToolError, match="changed"):
        run(edit_file, ws, moving, path="a.txt", old_string="x", new_string="y")
    assert moving.written == []
