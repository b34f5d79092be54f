"""Files as the tools read them: text decoded so it can be written back byte-for-byte, binary
files told apart, and clear messages for what is missing. Writing is in `changes.py`."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from glmcode.tools.base import EditorFiles, ToolContext, ToolError

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
        import mimetypes  # its tables load only when a binary file is named

        guessed = mimetypes.guess_type(path.name)[0]
        return guessed or (f"{ext} file" if ext else "binary data")
    return None


def read_bytes(path: Path, ctx: ToolContext) -> bytes:
    """A file's bytes (as the editor holds it, when glmcode works in one); a missing or
    unreadable file becomes a ToolError the model can act on."""
    refuse_special(path, ctx)
    try:
        return through_editor(path, path.read_bytes(), ctx.editor)
    except FileNotFoundError:
        raise ToolError(not_found(path, ctx)) from None
    except IsADirectoryError:
        raise ToolError(f"{ctx.display(path)} is a directory, not a file") from None
    except PermissionError:
        raise ToolError(f"permission denied reading {ctx.display(path)}") from None
    except OSError as e:
        raise ToolError(f"cannot read {ctx.display(path)}: {e.strerror or e}") from None


def editor_text(data: bytes, path: Path) -> str | None:
    """The text an editor holds for these bytes; None for what it cannot hold as they are
    (binary data, bytes that are not UTF-8)."""
    if binary_kind(path, data[:SNIFF_BYTES]) is not None:
        return None
    try:
        return data.decode("utf-8-sig" if data.startswith(BOM) else "utf-8")
    except UnicodeDecodeError:
        return None


def through_editor(path: Path, disk: bytes, editor: EditorFiles | None) -> bytes:
    """The file as the editor holds it (unsaved changes included), in the conventions of the
    file on disk: its BOM, and CRLF when every line on disk ends so and the editor's text uses
    plain newlines. The disk decides what exists and what is text; without an editor, or for
    a file it cannot give, the disk's bytes."""
    if editor is None or editor_text(disk, path) is None:
        return disk
    text = editor.read_text(path)
    if text is None:
        return disk
    crlf = disk.count(b"\r\n")
    if crlf and crlf == disk.count(b"\n") and "\r" not in text:
        text = text.replace("\n", "\r\n")
    data = text.encode("utf-8")
    return BOM + data if disk.startswith(BOM) else data


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
    import difflib  # a tool's first run pays for it, not every start

    found += difflib.get_close_matches(wanted, names, n=limit, cutoff=0.6)
    found += sorted(n for n in names if Path(n).stem.lower() == stem)
    unique = list(dict.fromkeys(n for n in found if n != wanted))
    return [path.parent / n for n in unique[:limit]]
