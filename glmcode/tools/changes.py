"""Changes to files as the edit tools make them: applied all-or-nothing with atomic writes
(or handed to the editor glmcode works in), and shown as unified diffs."""

from __future__ import annotations

import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from glmcode.atomic import write_atomic
from glmcode.tools.base import EditorFiles, ToolContext, ToolError
from glmcode.tools.files import SNIFF_BYTES, TextFile, binary_kind, editor_text, through_editor


@dataclass(frozen=True)
class FileChange:
    """One file's content before and after. `old` None: the file is created; `new` None: it is
    deleted. With `move_from`, `old` is the content at `move_from`, which goes away, and
    `path` must not exist yet."""

    path: Path
    old: bytes | None
    new: bytes | None
    move_from: Path | None = None

    def __post_init__(self) -> None:
        if self.old is None and self.new is None:
            raise ValueError("a FileChange needs old or new content")
        if self.move_from is not None and (self.old is None or self.new is None):
            raise ValueError("a move needs both old and new content")

    @property
    def source(self) -> Path:
        return self.move_from if self.move_from is not None else self.path

    @property
    def is_move(self) -> bool:
        return self.move_from is not None and self.move_from != self.path


def apply_changes(changes: Sequence[FileChange], editor: EditorFiles | None = None) -> None:
    """Write every change, or none: all are checked against the disk (as the editor holds it)
    first, each file is written atomically, and a failure part-way restores the files already
    written. With an editor, text files created or rewritten go to its buffers instead, unless
    the change set deletes or moves a file."""
    if editor is not None and editor.writes and _write_through_editor(changes, editor):
        return
    modes = _check(changes, editor)
    created_dirs: list[Path] = []
    started: list[FileChange] = []
    try:
        for change in changes:
            started.append(change)
            _apply_one(change, modes, created_dirs)
    except BaseException as e:
        # An interrupt part-way must not leave half an edit behind either.
        problems = _roll_back(started, modes, created_dirs)
        if not isinstance(e, OSError):
            raise
        message = f"could not write {started[-1].path}: {e.strerror or e}"
        if problems:
            message += "; the files written before it could not all be restored: "
            message += ", ".join(problems)
        else:
            message += "; no file was changed"
        raise ToolError(message) from None


def _current(path: Path) -> bytes | None:
    if path.exists() and not path.is_file() and not path.is_dir():
        raise ToolError(f"{path} is not a regular file (a pipe, socket or device)")
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise ToolError(f"{path} is a directory") from None
    except NotADirectoryError:
        raise ToolError(f"cannot use {path}: part of its folder path is a file") from None
    except OSError as e:
        raise ToolError(f"cannot read {path}: {e.strerror or e}") from None


def _check(changes: Sequence[FileChange], editor: EditorFiles | None = None) -> dict[Path, int]:
    """Refuse changes whose `old` no longer matches the disk; return the modes to keep."""
    seen: set[Path] = set()
    modes: dict[Path, int] = {}
    for change in changes:
        for p in {change.path, change.source}:
            if p in seen:
                raise ToolError(f"{p} is changed twice in one edit")
            seen.add(p)
        current = _current(change.source)
        if current is not None and editor is not None:
            current = through_editor(change.source, current, editor)
        if current != change.old:
            if change.old is None:
                raise ToolError(f"{change.source} already exists")
            if current is None:
                raise ToolError(f"{change.source} does not exist (any more)")
            raise ToolError(f"{change.source} changed on disk since it was read; read it again")
        if change.is_move and (change.path.exists() or change.path.is_symlink()):
            raise ToolError(f"cannot move {change.source} to {change.path}: the target exists")
        if current is not None:
            try:
                modes[change.source] = stat.S_IMODE(change.source.stat().st_mode)
            except OSError as e:
                raise ToolError(f"cannot stat {change.source}: {e.strerror or e}") from None
    return modes


def _write_through_editor(changes: Sequence[FileChange], editor: EditorFiles) -> bool:
    """The changes written to the editor's buffers; False (nothing done) when one of them is
    not a text file created or rewritten, so the disk takes them all."""
    texts: list[str] = []
    for change in changes:
        text = None if change.new is None or change.is_move else editor_text(change.new, change.path)
        if text is None or (change.old is not None and editor_text(change.old, change.path) is None):
            return False
        texts.append(text)
    _check(changes, editor)
    written: list[FileChange] = []
    try:
        for change, text in zip(changes, texts):
            editor.write_text(change.path, text)
            written.append(change)
    except ToolError as e:
        for done in reversed(written):
            old = None if done.old is None else editor_text(done.old, done.path)
            if old is not None:
                editor.write_text(done.path, old)
        raise ToolError(f"could not write {changes[len(written)].path}: {e}") from None
    return True


def _apply_one(change: FileChange, modes: dict[Path, int], created_dirs: list[Path]) -> None:
    if change.new is None:
        change.path.unlink()
        return
    _make_parents(change.path, created_dirs)
    write_atomic(change.path, change.new, modes.get(change.source))
    if change.is_move:
        change.source.unlink()


def _roll_back(
    started: list[FileChange], modes: dict[Path, int], created_dirs: list[Path]
) -> list[str]:
    problems: list[str] = []
    for change in reversed(started):
        try:
            if (change.is_move or change.old is None) and change.path.exists():
                change.path.unlink()
            if change.old is not None and _current(change.source) != change.old:
                write_atomic(change.source, change.old, modes.get(change.source))
        except (OSError, ToolError) as e:
            problems.append(f"{change.source} ({e})")
    for d in reversed(created_dirs):
        try:
            d.rmdir()
        except OSError:
            pass  # not empty or gone: leaving a folder behind does no harm
    return problems


def _make_parents(path: Path, created: list[Path]) -> None:
    missing: list[Path] = []
    parent = path.parent
    while not parent.exists():
        missing.append(parent)
        parent = parent.parent
    for d in reversed(missing):
        d.mkdir()
        created.append(d)


def unified_diff(changes: Sequence[FileChange], ctx: ToolContext, context: int = 3) -> str:
    """A unified diff of the changes, paths relative to the workspace as a/... and b/..."""
    return "".join(_diff_one(change, ctx, context) for change in changes)


def _label(prefix: str, path: Path, ctx: ToolContext) -> str:
    shown = ctx.display(path)
    return shown if Path(shown).is_absolute() else f"{prefix}/{shown}"


def _diff_one(change: FileChange, ctx: ToolContext, context: int) -> str:
    if change.old == change.new and not change.is_move:
        return ""
    old_label = "/dev/null" if change.old is None else _label("a", change.source, ctx)
    new_label = "/dev/null" if change.new is None else _label("b", change.path, ctx)
    header = f"--- {old_label}\n+++ {new_label}\n"
    old, new = change.old or b"", change.new or b""
    if binary_kind(change.path, old[:SNIFF_BYTES]) or binary_kind(change.path, new[:SNIFF_BYTES]):
        return f"Binary files {old_label} and {new_label} differ\n"
    old_text, new_text = TextFile.decode(old).text, TextFile.decode(new).text
    if old_text == new_text:
        if change.is_move:
            return header
        return header + "(only line endings, encoding or BOM differ)\n"
    import difflib  # a tool's first run pays for it, not every start

    out = [header]
    body = difflib.unified_diff(_with_ends(old_text), _with_ends(new_text), n=context)
    for line in list(body)[2:]:  # difflib's own ---/+++ lines are replaced by the header
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)



def _with_ends(text: str) -> list[str]:
    # str.splitlines would also split at form feeds and other characters a diff keeps in a line
    parts = text.split("\n")
    return [line + "\n" for line in parts[:-1]] + ([parts[-1]] if parts[-1] else [])
