"""ripgrep, from the `ripgrep` wheel (its `rg` sits next to the interpreter) or from PATH:
listing the files a search sees, and searching them with results in search.py's shape."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from glmcode.tools.base import ToolError
from glmcode.tools.ignore import git_root
from glmcode.tools.search import FileHits, HitLine, Query

# The name a filter passed to ripgrep as a file type goes by. Types, unlike --glob, never
# bring back files that .gitignore left out, though they do bring back hidden files.
TYPE_NAME = "glmcodeglob"


class RgUnavailable(Exception):
    """The rg binary could not be run; the caller falls back to the Python search."""


def find_rg() -> Path | None:
    """The rg binary installed beside this interpreter (the `ripgrep` wheel), else on PATH."""
    name = "rg.exe" if os.name == "nt" else "rg"
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside
    found = shutil.which("rg")
    return Path(found) if found else None


def common_args(root: Path, include_hidden: bool) -> list[str]:
    """Flags that make ripgrep see the same files as `ignore.walk_files`, whatever the
    user's own ripgrep configuration says."""
    args = ["--no-config", "--no-messages"]
    if git_root(root) is None:
        args.append("--no-require-git")
    if include_hidden:
        args += ["--hidden", "--glob", "!.git"]
    return args


def list_files(rg: Path, root: Path, include_hidden: bool, cancel: threading.Event) -> list[Path]:
    """The files under `root` that are neither ignored nor hidden, as `rg --files` lists them."""
    argv = [str(rg), "--files", "--null", *common_args(root, include_hidden), "--", str(root)]
    out = b"".join(_stream(argv, cancel))
    return [Path(os.fsdecode(p)) for p in out.split(b"\0") if p]


def rg_search(
    rg: Path, query: Query, name_glob: str | None, lines_wanted: int, cancel: threading.Event
) -> Iterator[FileHits]:
    """The search by ripgrep. Files come with their lines until `lines_wanted` lines have
    been given; the rest only with their counts, which ripgrep gives far faster. `name_glob`,
    a pattern on file names only, lets ripgrep skip other files early; `query.keep` still
    decides."""
    explicit_file = not query.root.is_dir()
    given = 0
    if lines_wanted > 0 or explicit_file:
        argv = _argv(rg, query, name_glob, ["--json"])
        with_lines = _json_hits(argv, query, explicit_file, cancel)
        try:
            for hit in with_lines:
                yield hit
                given += 1
                lines_wanted -= hit.line_count
                if lines_wanted <= 0 and not explicit_file:
                    break
            else:
                return
        finally:
            with_lines.close()
    argv = _argv(rg, query, name_glob, ["--count", "--with-filename", "--null"])
    for index, hit in enumerate(_count_hits(argv, query, cancel)):
        if index >= given:  # both runs list the files in the same order
            yield hit


def _argv(rg: Path, query: Query, name_glob: str | None, output: list[str]) -> list[str]:
    argv = [str(rg), *output, "--sort", "path", *common_args(query.root, query.include_hidden)]
    if query.ignore_case:
        argv.append("--ignore-case")
    if query.context and "--json" in output:
        argv += ["--context", str(query.context)]
    if name_glob and query.root.is_dir():  # a file named by path is searched whatever it is
        argv += ["--type-add", f"{TYPE_NAME}:{name_glob}", "--type", TYPE_NAME]
    return argv + ["--regexp", query.pattern, "--", str(query.root)]


def _json_hits(
    argv: list[str], query: Query, explicit_file: bool, cancel: threading.Event
) -> Iterator[FileHits]:
    path: Path | None = None
    records: list[bytes] = []
    matches = 0
    for line in _stream(argv, cancel, lines=True):
        if line.startswith(b'{"type":"match"'):
            records.append(line)
            matches += 1
        elif line.startswith(b'{"type":"context"'):
            records.append(line)
        elif line.startswith(b'{"type":"begin"'):
            path = Path(_text(json.loads(line)["data"]["path"]))
            records, matches = [], 0
        elif line.startswith(b'{"type":"end"') and path is not None:
            binary = json.loads(line)["data"].get("binary_offset") is not None
            if matches and not binary and (explicit_file or _wanted(query, path)):
                yield FileHits(path, matches, len(records), lambda r=records: _decode(r))
            path = None


def _count_hits(argv: list[str], query: Query, cancel: threading.Event) -> Iterator[FileHits]:
    """Files and their numbers of matching lines; ripgrep leaves binary files out, as the
    JSON search does."""
    for line in _stream(argv, cancel, lines=True):
        name, _, count = line.rstrip(b"\n").rpartition(b"\0")
        path = Path(os.fsdecode(name))
        if name and _wanted(query, path):
            yield FileHits(path, int(count), int(count), None)


def _wanted(query: Query, path: Path) -> bool:
    rel = path.relative_to(query.root).as_posix()
    # A file-type filter brings back hidden files; drop them again.
    if not query.include_hidden and any(part.startswith(".") for part in rel.split("/")):
        return False
    return query.keep(rel)


def _decode(records: list[bytes]) -> list[HitLine]:
    lines = []
    for raw in records:
        message = json.loads(raw)
        data = message["data"]
        text = _text(data["lines"]).removesuffix("\n")
        lines.append(HitLine(data["line_number"], text, message["type"] == "match"))
    return lines


def _text(field: dict[str, Any]) -> str:
    """ripgrep gives text that is not UTF-8 as base64 bytes."""
    if "text" in field:
        return field["text"]
    return base64.b64decode(field["bytes"]).decode("utf-8", errors="replace")


def _stream(argv: list[str], cancel: threading.Event, lines: bool = False) -> Iterator[bytes]:
    """ripgrep's stdout, line by line or in chunks. Exit 2 with a message (a bad pattern)
    becomes a ToolError; the process is killed if the caller stops reading."""
    with tempfile.TemporaryFile() as errors:
        try:
            proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=errors
            )
        except OSError as exc:
            raise RgUnavailable(str(exc)) from exc
        stdout: Any = proc.stdout
        try:
            for chunk in stdout if lines else iter(lambda: stdout.read(65536), b""):
                if cancel.is_set():
                    raise ToolError("search cancelled by the user")
                yield chunk
            proc.wait()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            stdout.close()
        if proc.returncode == 2:
            errors.seek(0)
            message = errors.read().decode("utf-8", errors="replace").strip()
            if message:
                raise ToolError(message)
