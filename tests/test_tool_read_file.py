from __future__ import annotations

import os
from pathlib import Path

import pytest

from glmcode.tools.base import ToolContext, ToolError
from glmcode.tools.read_file import TOOL

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(200)


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    return root


def read(ws: Path, path: str, **kw: object) -> str:
    args = TOOL.validate({"path": path, **kw})
    return TOOL.run(args, ToolContext(ws)).output


def error(ws: Path, path: str, **kw: object) -> str:
    with pytest.raises(ToolError) as info:
        read(ws, path, **kw)
    return str(info.value)


def test_schema_has_exactly_the_declared_parameters() -> None:
    params = TOOL.schema()["function"]["parameters"]
    assert set(params["properties"]) == {"path", "offset", "limit"}
    assert params["required"] == ["path"]
    assert TOOL.kind == "read"
    assert len(TOOL.description.encode()) <= 700


def test_numbered_lines_like_cat_n(ws: Path) -> None:
    (ws / "a.py").write_text("import os\n\ndef f():\n    return 1\n")
    out = read(ws, "a.py")
    assert out.splitlines() == [
        "     1\timport os",
        "     2\t",
        "     3\tdef f():",
        "     4\t    return 1",
        "(end of file, 4 lines)",
    ]


def test_huge_file_pages_with_offset_and_footer(ws: Path) -> None:
    (ws / "big.txt").write_bytes(b"".join(b"line %d\n" % i for i in range(1, 200_001)))
    first = read(ws, "big.txt").splitlines()
    assert len(first) == 2001
    assert first[0] == "     1\tline 1"
    assert first[1999] == "  2000\tline 2000"
    assert first[-1] == "(lines 1-2000 of 200000; call read_file with offset=2001 to continue)"

    middle = read(ws, "big.txt", offset=150_001, limit=3).splitlines()
    assert middle == [
        "150001\tline 150001",
        "150002\tline 150002",
        "150003\tline 150003",
        "(lines 150001-150003 of 200000; call read_file with offset=150004 to continue)",
    ]
    tail = read(ws, "big.txt", offset=199_999).splitlines()
    assert tail[-1] == "(lines 199999-200000 of 200000, end of file)"
    assert "past the end" in error(ws, "big.txt", offset=200_001)


def test_offset_given_as_string_is_accepted(ws: Path) -> None:
    (ws / "a.txt").write_text("x\ny\nz\n")
    assert read(ws, "a.txt", offset="2", limit="1").splitlines()[0] == "     2\ty"


def test_long_lines_are_cut_with_a_marker(ws: Path) -> None:
    (ws / "min.js").write_text("a" * 5000 + "\nshort\n")
    lines = read(ws, "min.js").splitlines()
    assert lines[0] == "     1\t" + "a" * 2000 + " [... line cut, 5000 characters in all]"
    assert lines[1] == "     2\tshort"


def test_many_long_lines_end_the_page_early_and_say_where_to_continue(ws: Path) -> None:
    (ws / "wide.txt").write_text(("b" * 1999 + "\n") * 300)
    out = read(ws, "wide.txt")
    assert len(out) < 110_000
    footer = out.splitlines()[-1]
    assert footer.startswith("(lines 1-") and "of 300; call read_file with offset=" in footer


def test_binary_file_is_refused_with_size_and_type(ws: Path) -> None:
    (ws / "blob.dat").write_bytes(b"abc\x00def" * 300)
    message = error(ws, "blob.dat")
    assert "blob.dat is a binary file" in message and "2.1 KB" in message


def test_png_is_refused_as_an_image(ws: Path) -> None:
    (ws / "logo.png").write_bytes(PNG)
    message = error(ws, "logo.png")
    assert "PNG image" in message and "216 bytes" in message


def test_folder_lists_entries_with_trailing_slash(ws: Path) -> None:
    (ws / "src").mkdir()
    (ws / "src" / "pkg").mkdir()
    (ws / "src" / "main.py").write_text("")
    out = read(ws, "src")
    assert out.splitlines() == ["src/ is a folder with 2 entries:", "main.py", "pkg/"]


def test_folder_listing_is_capped(ws: Path) -> None:
    many = ws / "many"
    many.mkdir()
    for i in range(520):
        (many / f"f{i:04}.txt").write_text("")
    lines = read(ws, "many").splitlines()
    assert lines[0] == "many/ is a folder with 520 entries:"
    assert len(lines) == 1 + 500 + 1
    assert lines[-1].startswith("... and 20 more")


def test_missing_file_suggests_similar_names(ws: Path) -> None:
    (ws / "config.toml").write_text("")
    (ws / "Readme.md").write_text("")
    assert "Did you mean: config.toml" in error(ws, "confg.toml")
    assert "Readme.md" in error(ws, "README.md")
    assert error(ws, "nothing/here.txt") == (
        "file not found: nothing/here.txt (the folder nothing does not exist either)"
    )


def test_reading_outside_the_workspace_is_allowed(ws: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("far away\n")
    assert "far away" in read(ws, str(outside))
    assert "far away" in read(ws, "../outside.txt")


def test_empty_file_says_so(ws: Path) -> None:
    (ws / "empty.txt").write_bytes(b"")
    assert read(ws, "empty.txt") == "empty.txt is empty (0 lines)."


def test_crlf_bom_and_latin1_are_shown_as_text(ws: Path) -> None:
    (ws / "win.txt").write_bytes(b"\xef\xbb\xbfone\r\ntwo\r\n")
    assert read(ws, "win.txt").splitlines()[:2] == ["     1\tone", "     2\ttwo"]
    (ws / "latin.txt").write_bytes(b"caf\xe9\nna\xefve")
    assert read(ws, "latin.txt").splitlines() == [
        "     1\tcafé",
        "     2\tnaïve",
        "(end of file, 2 lines)",
    ]


def test_named_pipe_is_refused_without_blocking(ws: Path) -> None:
    os.mkfifo(ws / "pipe")
    assert error(ws, "pipe") == "pipe is not a regular file (a pipe, socket or device)"
