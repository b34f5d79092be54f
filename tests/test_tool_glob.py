from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

import glmcode.tools.rg as rg_module
from glmcode.tools.base import ToolContext, ToolError, ToolResult
from glmcode.tools.glob import MAX_FILES, TOOL
from glmcode.tools.ignore import GlobFilter, expand_braces
from glmcode.tools.rg import find_rg

# name -> modification time (seconds since the epoch)
FILES = {
    "src/old.py": 1_000,
    "src/new.py": 5_000,
    "src/pkg/mid.py": 3_000,
    "src/pkg/tie_b.py": 2_000,
    "src/pkg/tie_a.py": 2_000,
    "src/web/app.ts": 4_000,
    "src/web/app.tsx": 4_500,
    "setup.py": 500,
    "README.md": 6_000,
    "build/gen.py": 9_000,
    "cache.pyc": 9_000,
    ".hidden.py": 9_000,
    ".github/workflows/ci.yml": 7_000,
}


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    for name, mtime in FILES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(name)
        os.utime(path, (mtime, mtime))
    (root / ".gitignore").write_text("build/\n*.pyc\n")
    os.utime(root / ".gitignore", (100, 100))
    return root


@pytest.fixture(params=["rg", "python"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "python":
        monkeypatch.setattr(rg_module, "find_rg", lambda: None)
    else:
        assert find_rg() is not None
    return str(request.param)


def glob(root: Path, pattern: str, **args: Any) -> ToolResult:
    return TOOL.run(TOOL.validate({"pattern": pattern, **args}), ToolContext(root))


def names(result: ToolResult) -> list[str]:
    return result.output.splitlines()


def test_schema_has_exactly_the_documented_parameters() -> None:
    params = TOOL.schema()["function"]["parameters"]
    assert list(params["properties"]) == ["pattern", "path"]
    assert params["required"] == ["pattern"]
    assert TOOL.kind == "read"
    assert len(TOOL.description.encode()) <= 700


def test_newest_first_with_ties_in_path_order(tree: Path, backend: str) -> None:
    result = glob(tree, "**/*.py")
    assert names(result) == [
        "src/new.py", "src/pkg/mid.py", "src/pkg/tie_a.py", "src/pkg/tie_b.py", "src/old.py",
        "setup.py",
    ]
    assert result.data == {"files": 6}
    assert not result.is_error


def test_gitignored_and_hidden_files_are_left_out(tree: Path, backend: str) -> None:
    assert names(glob(tree, "*")) == [
        "README.md", "src/new.py", "src/web/app.tsx", "src/web/app.ts", "src/pkg/mid.py",
        "src/pkg/tie_a.py", "src/pkg/tie_b.py", "src/old.py", "setup.py",
    ]
    assert names(glob(tree, "*.pyc"))[0].startswith("No files match")


def test_hidden_files_are_listed_when_the_pattern_names_them(tree: Path, backend: str) -> None:
    assert names(glob(tree, ".github/**")) == [".github/workflows/ci.yml"]
    assert names(glob(tree, ".*")) == [".hidden.py", ".gitignore"]


def test_pattern_forms(tree: Path, backend: str) -> None:
    assert names(glob(tree, "*.py"))[-1] == "setup.py"  # no slash: any depth
    assert names(glob(tree, "src/*.py")) == ["src/new.py", "src/old.py"]  # anchored, one level
    assert names(glob(tree, "src/**/*.{ts,tsx}")) == ["src/web/app.tsx", "src/web/app.ts"]
    assert names(glob(tree, "src/pkg/tie_?.py")) == ["src/pkg/tie_a.py", "src/pkg/tie_b.py"]
    assert names(glob(tree, "!**/*.py")) == ["README.md", "src/web/app.tsx", "src/web/app.ts"]


def test_path_narrows_and_patterns_are_relative_to_it(tree: Path, backend: str) -> None:
    assert names(glob(tree, "*.ts*", path="src/web")) == ["src/web/app.tsx", "src/web/app.ts"]
    assert names(glob(tree, "pkg/m*", path="src")) == ["src/pkg/mid.py"]
    none = glob(tree, "*.rs", path="src")
    assert none.output == "No files match '*.rs' in src."
    assert not none.is_error


def test_results_are_capped_with_a_note(tmp_path: Path, backend: str) -> None:
    for n in range(MAX_FILES + 5):
        path = tmp_path / f"f{n:03}.txt"
        path.write_text("")
        os.utime(path, (n, n))
    lines = names(glob(tmp_path, "*.txt"))
    assert len(lines) == MAX_FILES + 1
    assert lines[0] == f"f{MAX_FILES + 4:03}.txt"
    assert lines[-1] == (
        f"[{MAX_FILES} of {MAX_FILES + 5} files shown, newest first. Narrow the pattern or "
        "give a path.]"
    )


def test_bad_arguments_are_errors(tree: Path, backend: str) -> None:
    with pytest.raises(ToolError, match="is a file"):
        glob(tree, "*", path="setup.py")
    with pytest.raises(ToolError, match="does not exist"):
        glob(tree, "*", path="nowhere")
    with pytest.raises(ToolError, match="empty"):
        glob(tree, " ")


def test_both_ways_list_the_same_files(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tree / "src" / ".gitignore").write_text("pkg/tie_*\n!pkg/tie_b.py\n")
    for pattern in ("*", "**/*.py", "src/**", ".*", "**/.*/**", "!*.md", "src/*/*"):
        with_rg = glob(tree, pattern).output
        with monkeypatch.context() as patch:
            patch.setattr(rg_module, "find_rg", lambda: None)
            assert glob(tree, pattern).output == with_rg
    assert "src/pkg/tie_a.py" not in glob(tree, "*").output
    assert "src/pkg/tie_b.py" in glob(tree, "*").output


def test_brace_expansion() -> None:
    assert expand_braces("*.{ts,tsx}") == ["*.ts", "*.tsx"]
    assert expand_braces("{a,b{c,d}}/x") == ["a/x", "bc/x", "bd/x"]
    assert expand_braces("{a}.{x,y}") == ["{a}.x", "{a}.y"]
    assert expand_braces("plain") == ["plain"]


def test_glob_filter_semantics() -> None:
    star = GlobFilter.parse("*.py")
    assert star.matches("a.py") and star.matches("x/y/a.py") and not star.matches("a.pyc")
    anchored = GlobFilter.parse("src/*.py")
    assert anchored.matches("src/a.py") and not anchored.matches("src/x/a.py")
    assert not anchored.matches("lib/src/a.py")
    deep = GlobFilter.parse("./src/**/test_*.py")
    assert deep.matches("src/test_a.py") and deep.matches("src/x/y/test_a.py")
    assert GlobFilter.parse("[!a]*.txt").matches("b.txt")
    assert not GlobFilter.parse("[!a]*.txt").matches("a.txt")
    assert not GlobFilter.parse(".*").matches(".github/ci.yml")
    assert GlobFilter.parse(".github/**").names_hidden
    assert not GlobFilter.parse("**/*.py").names_hidden
