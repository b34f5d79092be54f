from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

import glmcode.tools.rg as rg_module
from glmcode.tools.base import ToolContext, ToolError, ToolResult
from glmcode.tools.grep import TOOL
from glmcode.tools.rg import find_rg

FILES: dict[str, str | bytes] = {
    ".gitignore": "build/\n*.log\n!keep.log\n",
    "src/.gitignore": "generated/\n",
    "src/app.py": (
        "import os\n\ndef hello():\n    return 'Hello'\n\nclass Greeter:\n"
        "    def hello(self):\n        return hello()\n"
    ),
    "src/util.py": "def helper():\n    pass\n",
    "src/web/index.ts": "export function hello(): string {\n  return 'hi';\n}\n",
    "src/generated/gen.py": "hello = 'generated'\n",
    "README.md": "# Demo\nSay hello to the app.\n",
    "a.txt": "hello a\n",
    "a-b.txt": "hello a-b\n",
    "a/b.txt": "hello a/b\n",
    "notes/crlf.txt": b"first hello\r\nsecond\r\n",
    "notes/latin1.txt": b"caf\xe9 hello\n",
    "notes/long.txt": "hello " + "z" * 600 + "\n",
    "notes/no-newline.txt": "hello at the end",
    "notes/utf16.txt": "hello in utf-16\n".encode("utf-16"),
    "notes/utf8-bom.txt": b"\xef\xbb\xbfhello after a bom\n",
    "build/out.py": "hello = 1\n",
    "debug.log": "hello log\n",
    "keep.log": "hello kept\n",
    "logs/.gitignore": "!special.log\n",
    "logs/special.log": "hello special\n",
    "logs/other.log": "hello other\n",
    "docs/.ignore": "draft.md\n",
    "docs/draft.md": "hello draft\n",
    "docs/final.md": "hello final\n",
    ".hidden.py": "hello = 'hidden'\n",
    ".github/workflows/ci.yml": "run: hello\n",
    "data.bin": b"hello\x00\x01binary\n",
}

VISIBLE_HELLO_FILES = [
    "README.md",
    "a/b.txt",
    "a-b.txt",
    "a.txt",
    "docs/final.md",
    "keep.log",
    "logs/special.log",
    "notes/crlf.txt",
    "notes/latin1.txt",
    "notes/long.txt",
    "notes/no-newline.txt",
    "notes/utf16.txt",
    "notes/utf8-bom.txt",
    "src/app.py",
    "src/web/index.ts",
]


def make_tree(root: Path, files: dict[str, str | bytes] = FILES) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return root


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return make_tree(tmp_path / "ws")


@pytest.fixture(params=["rg", "python"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "python":
        monkeypatch.setattr(rg_module, "find_rg", lambda: None)
    else:
        assert find_rg() is not None
    return str(request.param)


def grep(root: Path, pattern: str, **args: Any) -> ToolResult:
    return TOOL.run(TOOL.validate({"pattern": pattern, **args}), ToolContext(root))


def test_schema_has_exactly_the_documented_parameters() -> None:
    params = TOOL.schema()["function"]["parameters"]
    assert list(params["properties"]) == [
        "pattern", "path", "glob", "ignore_case", "context", "output_mode", "max_results",
    ]
    assert params["required"] == ["pattern"]
    assert params["properties"]["output_mode"]["enum"] == ["content", "files_with_matches", "count"]
    assert TOOL.kind == "read"
    assert len(TOOL.description.encode()) <= 700


def test_rg_comes_from_the_ripgrep_wheel_beside_the_interpreter() -> None:
    assert find_rg() == Path(sys.executable).parent / "rg"


def test_content_mode_shows_path_line_and_text(tree: Path, backend: str) -> None:
    result = grep(tree, r"hello\(", path="src")
    assert not result.is_error
    assert result.output == (
        "src/app.py:3:def hello():\n"
        "src/app.py:7:    def hello(self):\n"
        "src/app.py:8:        return hello()\n"
        "src/web/index.ts:1:export function hello(): string {"
    )
    assert result.data == {"files": 2, "matches": 4}


def test_files_mode_respects_gitignore_hidden_and_binary(tree: Path, backend: str) -> None:
    result = grep(tree, "hello", output_mode="files_with_matches")
    assert result.output.splitlines() == VISIBLE_HELLO_FILES


def test_count_mode(tree: Path, backend: str) -> None:
    result = grep(tree, "hello", path="src", output_mode="count")
    assert result.output == (
        "src/app.py:3\nsrc/web/index.ts:1\n4 matching lines in 2 files."
    )


def test_ignore_case(tree: Path, backend: str) -> None:
    assert grep(tree, "HELLO", path="src/app.py", output_mode="count").output.startswith(
        "No matches"
    )
    loose = grep(tree, "HELLO", path="src/app.py", ignore_case=True, output_mode="count")
    assert loose.output.splitlines()[0] == "src/app.py:4"


def test_context_lines_and_group_separators(tree: Path, backend: str) -> None:
    result = grep(tree, "import os|return hello", path="src/app.py", context=1)
    assert result.output == (
        "src/app.py:1:import os\n"
        "src/app.py-2-\n"
        "--\n"
        "src/app.py-7-    def hello(self):\n"
        "src/app.py:8:        return hello()"
    )


def test_glob_filters_files(tree: Path, backend: str) -> None:
    def files(glob: str) -> list[str]:
        return grep(tree, "hello", glob=glob, output_mode="files_with_matches").output.splitlines()

    assert files("*.py") == ["src/app.py"]
    assert files("*.{ts,md}") == ["README.md", "docs/final.md", "src/web/index.ts"]
    assert files("notes/[cl]*.txt") == ["notes/crlf.txt", "notes/latin1.txt", "notes/long.txt"]
    assert files("**/u?f*") == ["notes/utf16.txt", "notes/utf8-bom.txt"]
    assert files("web/*.ts")[0].startswith("No matches")  # a slash anchors it to the folder
    assert files("!*.txt") == [
        "README.md", "docs/final.md", "keep.log", "logs/special.log", "src/app.py",
        "src/web/index.ts",
    ]
    # A glob never brings back an ignored file.
    assert files("*.log") == ["keep.log", "logs/special.log"]


def test_hidden_files_are_searched_when_path_or_glob_names_them(tree: Path, backend: str) -> None:
    by_path = grep(tree, "hello", path=".github", output_mode="files_with_matches")
    assert by_path.output == ".github/workflows/ci.yml"
    by_glob = grep(tree, "hello", glob=".github/**", output_mode="files_with_matches")
    assert by_glob.output == ".github/workflows/ci.yml"
    dotted = grep(tree, "hello", glob="**/.*.py", output_mode="files_with_matches")
    assert dotted.output == ".hidden.py"


def test_an_ignored_file_named_by_path_is_searched(tree: Path, backend: str) -> None:
    assert grep(tree, "hello", path="debug.log").output == "debug.log:1:hello log"


def test_binary_file_is_skipped_even_when_named(tree: Path, backend: str) -> None:
    assert grep(tree, "hello", path="data.bin").output.startswith("No matches")


def test_line_endings_encodings_and_long_lines(tree: Path, backend: str) -> None:
    result = grep(tree, "hello", path="notes")
    lines = result.output.splitlines()
    assert lines[0] == "notes/crlf.txt:1:first hello"
    assert lines[1] == "notes/latin1.txt:1:caf\ufffd hello"
    assert lines[2] == "notes/long.txt:1:hello " + "z" * 494 + " [... 106 more characters]"
    assert lines[3:] == [
        "notes/no-newline.txt:1:hello at the end",
        "notes/utf16.txt:1:hello in utf-16",
        "notes/utf8-bom.txt:1:hello after a bom",
    ]


def test_results_are_capped_with_a_note(tmp_path: Path, backend: str) -> None:
    make_tree(tmp_path, {"many.txt": "".join(f"hit {n}\n" for n in range(30)), "b.txt": "hit\n"})
    result = grep(tmp_path, "hit", max_results=10)
    lines = result.output.splitlines()
    assert lines[:10] == ["b.txt:1:hit"] + [f"many.txt:{n + 1}:hit {n}" for n in range(9)]
    assert lines[10] == (
        "[Showing the first 10 lines; 31 matching lines in 2 files in all. Narrow the search with "
        "path, glob or a more specific pattern, or raise max_results.]"
    )
    files = grep(tmp_path, "hit", max_results=1, output_mode="files_with_matches")
    assert files.output.splitlines()[0] == "b.txt"
    assert files.output.splitlines()[1].startswith(
        "[Showing the first 1 of 2 files; 31 matching lines in 2 files in all."
    )


def test_no_matches_is_not_an_error(tree: Path, backend: str) -> None:
    result = grep(tree, "nowhere to be found")
    assert not result.is_error
    assert result.output == "No matches for 'nowhere to be found' in the workspace."
    scoped = grep(tree, "nowhere", path="src", glob="*.py")
    assert scoped.output == "No matches for 'nowhere' in src (files matching *.py)."


def test_invalid_regex_is_a_clear_error(tree: Path, backend: str) -> None:
    with pytest.raises(ToolError, match="regex"):
        grep(tree, "hello(")


def test_missing_path_and_empty_pattern_are_errors(tree: Path, backend: str) -> None:
    with pytest.raises(ToolError, match="does not exist"):
        grep(tree, "x", path="nope")
    with pytest.raises(ToolError, match="empty"):
        grep(tree, "")


def test_cancel_stops_the_search(tree: Path, backend: str) -> None:
    ctx = ToolContext(tree)
    ctx.cancel.set()
    with pytest.raises(ToolError, match="cancelled"):
        TOOL.run(TOOL.validate({"pattern": "hello"}), ctx)


def test_long_output_is_cut_for_the_model_only(tmp_path: Path, backend: str) -> None:
    make_tree(tmp_path, {"wide.txt": "".join(f"{n} hit " + "w" * 400 + "\n" for n in range(150))})
    result = grep(tmp_path, "hit")
    assert len(result.output.splitlines()) == 150
    assert result.model_output is not None and len(result.model_output) <= 31_000
    assert "left out" in result.model_output


QUERIES: list[dict[str, Any]] = [
    {"pattern": "hello"},
    {"pattern": "hello", "output_mode": "files_with_matches"},
    {"pattern": "hello", "output_mode": "count"},
    {"pattern": "HELLO", "ignore_case": True, "context": 2},
    {"pattern": r"^\s+return", "context": 1},
    {"pattern": "hello", "glob": "*.{py,ts}"},
    {"pattern": "hello", "glob": "!src/**"},
    {"pattern": "o", "max_results": 7},
    {"pattern": "hello", "path": "src", "output_mode": "count"},
    {"pattern": "hello", "glob": ".*"},
    {"pattern": r"^caf|second$"},
    {"pattern": "hello", "glob": "*.txt", "output_mode": "count"},
    {"pattern": "hello", "glob": "notes/*", "context": 1},
    {"pattern": "hello", "glob": "**/.*/**"},
]


def _both(root: Path, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    pairs = []
    for query in QUERIES:
        with_rg = TOOL.run(TOOL.validate(query), ToolContext(root)).output
        with monkeypatch.context() as patch:
            patch.setattr(rg_module, "find_rg", lambda: None)
            with_python = TOOL.run(TOOL.validate(query), ToolContext(root)).output
        pairs.append((with_rg, with_python))
    return pairs


def test_python_fallback_gives_the_same_results_as_ripgrep(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for with_rg, with_python in _both(tree, monkeypatch):
        assert with_python == with_rg
        assert not with_rg.startswith("No matches")


def test_same_results_inside_a_git_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A .gitignore above the repository does not apply inside it; .git/info/exclude does.
    (tmp_path / ".gitignore").write_text("a.txt\n")
    tree = make_tree(tmp_path / "ws")
    (tree / ".git" / "info").mkdir(parents=True)
    (tree / ".git" / "info" / "exclude").write_text("README.md\n")
    files = grep(tree, "hello", output_mode="files_with_matches").output.splitlines()
    assert "a.txt" in files and "README.md" not in files
    for with_rg, with_python in _both(tree, monkeypatch):
        assert with_python == with_rg


def test_same_results_outside_any_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Outside a repository, .gitignore files above the workspace apply, as ripgrep has it.
    (tmp_path / ".gitignore").write_text("a.txt\n")
    tree = make_tree(tmp_path / "ws")
    files = grep(tree, "hello", output_mode="files_with_matches").output.splitlines()
    assert "a.txt" not in files and "a-b.txt" in files
    for with_rg, with_python in _both(tree, monkeypatch):
        assert with_python == with_rg


def test_gitignore_corner_cases_agree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tree = make_tree(tmp_path / "ws", {
        ".gitignore": (
            "build/\ndist/**\n!dist/keep.txt\n/top.txt\nsub/deep/\n# hello.txt\n\\#odd.txt\n"
        ),
        "build/out.txt": "hello\n",
        "dist/drop.txt": "hello\n",
        "dist/keep.txt": "hello\n",
        "top.txt": "hello\n",
        "x/top.txt": "hello\n",
        "sub/deep/a.txt": "hello\n",
        "deep/b.txt": "hello\n",
        "hello.txt": "hello\n",
        "#odd.txt": "hello\n",
        "trailing.txt": "hello\n",
    })
    (tree / ".gitignore").write_text((tree / ".gitignore").read_text() + "trailing.txt   \n")
    expected = {
        ".": "deep/b.txt\ndist/keep.txt\nhello.txt\nx/top.txt",
        "build": "build/out.txt",
        "dist": "dist/keep.txt",
    }
    for path, files in expected.items():
        query = {"pattern": "hello", "path": path, "output_mode": "files_with_matches"}
        assert grep(tree, **query).output == files
        with monkeypatch.context() as patch:
            patch.setattr(rg_module, "find_rg", lambda: None)
            assert grep(tree, **query).output == files
