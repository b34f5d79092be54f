"""Files as the edit tools need them: text decoded so it can be written back byte-for-byte,
changes applied all-or-nothing with atomic writes, and unified diffs to show them."""

from __future__ import annotations

import difflib
import mimetypes
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from glmcode.tools.base import ToolContext, ToolError

BOM = b"\xef\xbb\xbf"
SNIFF_BYTES = 8192

BINARY_EXTENSIONS = frozenset(
    """
    png jpg jpeg gif bmp ico webp tif tiff psd heic avif pdf zip gz tgz bz2 xz zst 7z rar tar
    jar war class so dylib dll exe o a lib obj pyc pyo whl egg mp3 mp4 m4a wav ogg flac avi mov
    mkv webm woff woff2 ttf otf eot sqlite sqlite3 db iso dmg bin wasm npy npz pkl parquet
    """.split()
)

_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF87a", "GIF image"),
    (b"GIF89a", "GIF image"),
    (b"%PDF-", "PDF document"),
    (b"PK\x03\x04", "ZIP archive"),
    (b"\x1f\x8b", "gzip archive"),
    (b"\x7fELF", "ELF executable"),
    (b"SQLite format 3\x00", "SQLite database"),
    (b"\x00asm", "WebAssembly module"),
)


@dataclass(frozen=True)
class TextFile:
    """Decoded text plus what it takes to encode it back unchanged.

    `text` uses "\\n" line endings whatever the file has on disk; `newline` is what the file
    uses. `encoding` is "utf-8", "utf-8-sig" (UTF-8 with a BOM) or "latin-1", which reads any
    byte as one character and so writes a file that is not UTF-8 back without damage.
    """

    text: str
    encoding: str = "utf-8"
    newline: str = "\n"
    final_newline: bool = True

    @classmethod
    def decode(cls, data: bytes) -> TextFile:
        if not data:
            return cls("")
        encoding = "utf-8-sig" if data.startswith(BOM) else "utf-8"
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            encoding = "latin-1"
            text = data.decode(encoding)
        newline = "\n"
        crlf = text.count("\r\n")
        # A file mixing CRLF and LF stays as it is, so writing it back changes no line ending.
        if crlf and crlf == text.count("\n"):
            newline = "\r\n"
            text = text.replace("\r\n", "\n")
        return cls(text, encoding, newline, text.endswith("\n"))

    def with_text(self, text: str) -> TextFile:
        """New content in this file's conventions, keeping whether it ends with a newline."""
        if self.newline == "\r\n":
            text = text.replace("\r\n", "\n")
        if text and self.final_newline and not text.endswith("\n"):
            text += "\n"
        elif not self.final_newline and text.endswith("\n"):
            text = text[:-1]
        return replace(self, text=text)

    def encode(self) -> bytes:
        text = self.text if self.newline == "\n" else self.text.replace("\n", self.newline)
        try:
            return text.encode(self.encoding)
        except UnicodeEncodeError as e:
            bad = e.object[e.start : e.end]
            raise ToolError(
                f"the file is not UTF-8 (it is kept as Latin-1 bytes) and the new text contains "
                f"{bad!r}, which Latin-1 cannot hold; use Latin-1 characters only, or rewrite "
                "the whole file with write_file to make it UTF-8"
            ) from None

    def lines(self) -> list[str]:
        return split_lines(self.text)


def split_lines(text: str) -> list[str]:
    """Lines without their "\\n"; a final newline does not start another line."""
    if not text:
        return []
    lines = text.split("\n")
    if text.endswith("\n"):
        lines.pop()
    return lines


def number_lines(lines: Sequence[str], first: int = 1) -> str:
    """Lines as `cat -n` prints them: the line number right-aligned, a tab, the line."""
    return "\n".join(f"{n:6}\t{line}" for n, line in enumerate(lines, first))


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    value = size / 1024
    for unit in ("KB", "MB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


def binary_kind(path: Path, head: bytes) -> str | None:
    """What kind of binary file this is ("PNG image", ...), or None for text.

    `head` is the start of the file; a NUL byte in its first 8 KB marks binary data, and so
    do well-known binary extensions whatever the content.
    """
    for signature, kind in _SIGNATURES:
        if head.startswith(signature):
            return kind
    ext = path.suffix.lower().lstrip(".")
    if ext in BINARY_EXTENSIONS or b"\x00" in head[:SNIFF_BYTES]:
        guessed = mimetypes.guess_type(path.name)[0]
        return guessed or (f"{ext} file" if ext else "binary data")
    return None


def read_bytes(path: Path, ctx: ToolContext) -> bytes:
    """A file's bytes; a missing or unreadable file becomes a ToolError the model can act on."""
    refuse_special(path, ctx)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ToolError(not_found(path, ctx)) from None
    except IsADirectoryError:
        raise ToolError(f"{ctx.display(path)} is a directory, not a file") from None
    except PermissionError:
        raise ToolError(f"permission denied reading {ctx.display(path)}") from None
    except OSError as e:
        raise ToolError(f"cannot read {ctx.display(path)}: {e.strerror or e}") from None


def refuse_special(path: Path, ctx: ToolContext) -> None:
    # Opening a named pipe would block until a writer comes; a device may never end.
    if path.exists() and not path.is_file() and not path.is_dir():
        raise ToolError(f"{ctx.display(path)} is not a regular file (a pipe, socket or device)")


def load_text(path: Path, ctx: ToolContext) -> tuple[bytes, TextFile]:
    """A text file's bytes and its decoded text, for editing; binary files are refused."""
    data = read_bytes(path, ctx)
    kind = binary_kind(path, data[:SNIFF_BYTES])
    if kind is not None:
        raise ToolError(
            f"{ctx.display(path)} is a binary file ({kind}, {human_size(len(data))}); "
            "only text files can be edited"
        )
    return data, TextFile.decode(data)


def not_found(path: Path, ctx: ToolContext) -> str:
    """"File not found", with the names in the same folder that look like what was meant."""
    message = f"file not found: {ctx.display(path)}"
    parent = path.parent
    if not parent.is_dir():
        return f"{message} (the folder {ctx.display(parent)} does not exist either)"
    similar = similar_names(path)
    if similar:
        return f"{message}. Did you mean: {', '.join(ctx.display(p) for p in similar)}?"
    return message


def similar_names(path: Path, limit: int = 5) -> list[Path]:
    """Entries beside `path` whose names resemble its name (typos, case, other extension)."""
    try:
        names = os.listdir(path.parent)
    except OSError:
        return []
    wanted = path.name
    stem = Path(wanted).stem.lower()
    found = [n for n in names if n.lower() == wanted.lower()]
    found += difflib.get_close_matches(wanted, names, n=limit, cutoff=0.6)
    found += sorted(n for n in names if Path(n).stem.lower() == stem)
    unique = list(dict.fromkeys(n for n in found if n != wanted))
    return [path.parent / n for n in unique[:limit]]


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


def apply_changes(changes: Sequence[FileChange]) -> None:
    """Write every change, or none: all are checked against the disk first, each file is
    written atomically, and a failure part-way restores the files already written."""
    modes = _check(changes)
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


def _check(changes: Sequence[FileChange]) -> dict[Path, int]:
    """Refuse changes whose `old` no longer matches the disk; return the modes to keep."""
    seen: set[Path] = set()
    modes: dict[Path, int] = {}
    for change in changes:
        for p in {change.path, change.source}:
            if p in seen:
                raise ToolError(f"{p} is changed twice in one edit")
            seen.add(p)
        current = _current(change.source)
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


def write_atomic(path: Path, data: bytes, mode: int | None = None) -> None:
    """Write through a temporary file in the same folder, fsync, then rename over `path`, so a
    reader sees the old content or the new one, never half. The file keeps `mode` (by default
    its current mode); a new file gets the usual mode for the umask."""
    if path.is_symlink():
        path = path.resolve()  # write the target and keep the link
    if mode is None:
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            pass
    tmp = path.parent / f".{path.name[:100]}.{os.urandom(4).hex()}.glmcode-tmp"
    # Creating with 0o666 lets the kernel apply the umask, as for any new file.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems cannot sync a folder; the rename is done either way
    finally:
        os.close(fd)


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
    out = [header]
    body = difflib.unified_diff(_with_ends(old_text), _with_ends(new_text), n=context)
    for line in list(body)[2:]:  # difflib's own ---/+++ lines are replaced by the header
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)



def _with_ends(text: str) -> list[str]:
    # str.splitlines would also split at form feeds and other characters a diff keeps in a line
    parts = text.split("\n")
    return [line + "\n" for line in parts[:-1]] + ([parts[-1]] if parts[-1] else [])
