"""The shape of the package: imports run one way, and no module grows past what a reader takes in.

Every import counts, including those inside functions and under TYPE_CHECKING: a lazy import
hides a circle from the interpreter, not from the next person who has to untangle it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "glmcode"
MAX_LINES = 400


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imported(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The glmcode modules `name` imports, each named by the deepest module that exists."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    wanted: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            wanted += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            wanted += [base] + [f"{base}.{alias.name}" for alias in node.names]
    found = set()
    for target in wanted:
        while target and target not in known:
            target = target.rpartition(".")[0]
        # The package's own __init__ holds the version (every module may read it) and loads the API lazily.
        if target and target != name and target != PACKAGE.name:
            found.add(target)
    return found


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), found without recursion."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))
    return groups


def test_no_import_circles() -> None:
    known = _modules()
    graph = {name: _imported(name, path, known) for name, path in known.items()}
    assert _circles(graph) == []


CORE = ("agent", "tools", "llm", "config", "permissions", "vcs")


def test_the_core_knows_no_screen() -> None:
    """The loop, tools, client, settings and policy serve every frontend, so none of them may
    reach for the interface or the terminal library."""
    offenders = []
    for name, path in _modules().items():
        if name.split(".")[1:2] and name.split(".")[1] in CORE:
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                modules = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                    [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
                offenders += [f"{name} imports {m}" for m in modules
                              if m.split(".")[0] == "rich" or m.startswith("glmcode.ui")]
    assert offenders == []


def test_the_circle_finder_finds_a_circle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _circles(graph) == [["a", "b", "c"]]


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_over_the_line_limit(path: Path) -> None:
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(PACKAGE.parent)} has {lines} lines; split it by responsibility"


ARCHITECTURE = PACKAGE.parent / "docs" / "architecture.md"


def _documented_rows() -> list[tuple[frozenset[str], frozenset[str]]]:
    """docs/architecture.md's package table: each row's packages and the parts they may import.
    Packages that share a row may import each other."""
    rows = []
    for line in ARCHITECTURE.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`"):
            continue
        row = frozenset(name.removesuffix("/").removesuffix(".py") for name in cells[0].split("`")[1::2])
        rows.append((row, frozenset(cells[2].split("`")[1::2]) | row))
    return rows


def _part(module: str) -> str:
    """The package table's name for a module: its top-level package or file under glmcode."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _used() -> dict[str, set[str]]:
    known = _modules()
    used: dict[str, set[str]] = {}
    for name, path in known.items():
        used.setdefault(_part(name), set()).update(_part(t) for t in _imported(name, path, known))
    return used


def test_packages_import_only_what_the_architecture_page_lists() -> None:
    rows = _documented_rows()
    allowed = {part: imports for row, imports in rows for part in row}
    used = _used()
    assert sorted(set(used) - set(allowed)) == [], "docs/architecture.md lacks a row for these"
    extra = sorted(f"{part} imports {target}" for part, targets in used.items()
                   for target in targets - allowed[part])
    assert extra == [], "imports docs/architecture.md does not list:\n" + "\n".join(extra)


def test_the_architecture_page_lists_no_import_that_is_gone() -> None:
    """A listed import no module makes any more is a promise the page no longer keeps."""
    used = _used()
    stale = []
    for row, imports in _documented_rows():
        made = set().union(*(used.get(part, set()) for part in row))
        stale += [f"{sorted(row)} lists {name}" for name in sorted(imports - row - made)]
    assert stale == []
