from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest

from glmcode.tools import changes as file_changes
from glmcode.tools.base import ToolContext, ToolError, ToolResult
from glmcode.tools.changes import FileChange, apply_changes
from glmcode.tools.write_file import TOOL


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    return root


def write(ws: Path, path: str, content: str, extra: tuple[Path, ...] = ()) -> ToolResult:
    return TOOL.run(TOOL.validate({"path": path, "content": content}), ToolContext(ws, extra))


def leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.rglob("*") if "glmcode-tmp" in p.name]


def test_schema_has_exactly_the_declared_parameters() -> None:
    params = TOOL.schema()["function"]["parameters"]
    assert set(params["properties"]) == {"path", "content"}
    assert params["required"] == ["path", "content"]
    assert TOOL.kind == "edit" and TOOL.preview is not None
    assert len(TOOL.description.encode()) <= 700


def test_creates_folders_and_reports_lines_and_diff(ws: Path) -> None:
    result = write(ws, "src/pkg/new.py", "a = 1\nb = 2\n")
    assert (ws / "src/pkg/new.py").read_bytes() == b"a = 1\nb = 2\n"
    assert result.output == "Created src/pkg/new.py (2 lines)."
    assert result.diff is not None
    assert result.diff.startswith("--- /dev/null\n+++ b/src/pkg/new.py\n@@ -0,0 +1,2 @@\n")
    assert "+a = 1\n+b = 2\n" in result.diff


def test_overwrite_keeps_mode_and_leaves_no_temp_files(ws: Path) -> None:
    script = ws / "run.sh"
    script.write_text("#!/bin/sh\necho old\n")
    script.chmod(0o755)
    result = write(ws, "run.sh", "#!/bin/sh\necho new\n")
    assert result.output == "Overwrote run.sh (2 lines, was 2)."
    assert stat.S_IMODE(script.stat().st_mode) == 0o755
    assert script.read_text() == "#!/bin/sh\necho new\n"
    assert leftovers(ws) == []
    assert "-echo old\n+echo new\n" in (result.diff or "")


def test_new_file_gets_the_default_mode_for_the_umask(ws: Path) -> None:
    previous = os.umask(0o027)
    try:
        write(ws, "fresh.txt", "x\n")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((ws / "fresh.txt").stat().st_mode) == 0o640


def test_crlf_file_stays_crlf_and_bom_stays(ws: Path) -> None:
    (ws / "win.txt").write_bytes(b"\xef\xbb\xbfold\r\n")
    result = write(ws, "win.txt", "one\ntwo\n")
    assert (ws / "win.txt").read_bytes() == b"\xef\xbb\xbfone\r\ntwo\r\n"
    assert "kept its CRLF line endings and UTF-8 BOM" in result.output


def test_latin1_file_falls_back_to_utf8_only_when_needed(ws: Path) -> None:
    (ws / "l.txt").write_bytes(b"caf\xe9\n")
    write(ws, "l.txt", "th\xe9\n")
    assert (ws / "l.txt").read_bytes() == b"th\xe9\n"
    write(ws, "l.txt", "arrow \u2192\n")
    assert (ws / "l.txt").read_bytes() == "arrow \u2192\n".encode()


def test_same_content_changes_nothing(ws: Path) -> None:
    (ws / "a.txt").write_text("same\n")
    assert write(ws, "a.txt", "same\n").output == "a.txt already has this content; nothing changed."


def test_preview_shows_the_diff_without_writing(ws: Path) -> None:
    (ws / "a.txt").write_text("before\n")
    assert TOOL.preview is not None
    diff = TOOL.preview({"path": "a.txt", "content": "after\n"}, ToolContext(ws))
    assert diff == "--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-before\n+after\n"
    assert (ws / "a.txt").read_text() == "before\n"


def test_writes_outside_the_workspace_are_refused(ws: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (ws / "link").symlink_to(outside)
    for path in ("../escape.txt", "link/escape.txt", str(outside / "abs.txt")):
        with pytest.raises(ToolError, match="outside the workspace"):
            write(ws, path, "no\n")
    assert list(outside.iterdir()) == []
    assert not (tmp_path / "escape.txt").exists()


def test_added_folder_is_writable(ws: Path, tmp_path: Path) -> None:
    extra = tmp_path / "shared"
    extra.mkdir()
    result = write(ws, str(extra / "notes.md"), "hi\n", extra=(extra,))
    assert (extra / "notes.md").read_text() == "hi\n"
    assert result.output == f"Created {extra / 'notes.md'} (1 line)."


def test_folder_path_is_an_error(ws: Path) -> None:
    (ws / "dir").mkdir()
    with pytest.raises(ToolError, match="is a folder"):
        write(ws, "dir", "x")


def test_file_in_the_way_of_a_folder_is_an_error(ws: Path) -> None:
    (ws / "plain").write_text("file\n")
    with pytest.raises(ToolError, match="plain"):
        write(ws, "plain/inner.txt", "x")
    assert (ws / "plain").read_text() == "file\n"


def test_apply_changes_checks_every_file_before_writing_any(ws: Path) -> None:
    first = ws / "first.txt"
    first.write_bytes(b"original\n")
    (ws / "blocker").write_text("a file where a folder is needed\n")
    changes = [
        FileChange(first, b"original\n", b"changed\n"),
        FileChange(ws / "blocker" / "x.txt", None, b"x\n"),
    ]
    with pytest.raises(ToolError, match="part of its folder path is a file"):
        apply_changes(changes)
    assert first.read_bytes() == b"original\n"


def test_apply_changes_restores_written_files_when_a_later_write_fails(
    ws: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = ws / "first.txt"
    first.write_bytes(b"original\n")
    first.chmod(0o600)
    gone = ws / "gone.txt"
    gone.write_bytes(b"deleted then restored\n")
    full = ws / "deep" / "full.txt"
    real_write = file_changes.write_atomic

    def disk_full_for(path: Path, data: bytes, mode: int | None = None) -> None:
        if path == full:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_write(path, data, mode)

    monkeypatch.setattr(file_changes, "write_atomic", disk_full_for)
    changes = [
        FileChange(first, b"original\n", b"changed\n"),
        FileChange(gone, b"deleted then restored\n", None),
        FileChange(ws / "made" / "new.txt", None, b"new\n"),
        FileChange(full, None, b"x\n"),
    ]
    with pytest.raises(ToolError, match="No space left on device; no file was changed"):
        apply_changes(changes)
    assert first.read_bytes() == b"original\n"
    assert stat.S_IMODE(first.stat().st_mode) == 0o600
    assert gone.read_bytes() == b"deleted then restored\n"
    assert sorted(p.name for p in ws.iterdir()) == ["first.txt", "gone.txt"]


def test_apply_changes_refuses_a_file_changed_since_it_was_read(ws: Path) -> None:
    target = ws / "a.txt"
    target.write_bytes(b"now\n")
    with pytest.raises(ToolError, match="changed on disk"):
        apply_changes([FileChange(target, b"then\n", b"new\n")])
    with pytest.raises(ToolError, match="already exists"):
        apply_changes([FileChange(target, None, b"new\n")])
    assert target.read_bytes() == b"now\n"


def test_apply_changes_rolls_back_when_interrupted(ws: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = ws / "first.txt"
    first.write_bytes(b"original\n")
    second = ws / "second.txt"
    real_write = file_changes.write_atomic

    def interrupted_at(path: Path, data: bytes, mode: int | None = None) -> None:
        if path == second:
            raise KeyboardInterrupt
        real_write(path, data, mode)

    monkeypatch.setattr(file_changes, "write_atomic", interrupted_at)
    with pytest.raises(KeyboardInterrupt):
        apply_changes([FileChange(first, b"original\n", b"changed\n"), FileChange(second, None, b"x\n")])
    assert first.read_bytes() == b"original\n"
    assert not second.exists()
