"""The session transcript: one JSON record per line, written as it happens.

The first line is the header, `{"type": "session", "version": 1, "id": ...}` plus what
resuming needs (the working folder, the model, the system prompt). Every event follows as
`Event.to_dict()`, except that consecutive text or reasoning deltas are stored as one record:
they are held back until the next whole event, which is also when they would have reached the
disk, and a secret split across deltas is then still seen whole. A few records are the
session's own bookkeeping rather than events (`checkpoint`, `undo`, `rewind`; see
sessions_store). Every whole event is flushed at once, and a changed conversation is fsynced,
so the transcript is on disk before the next request leaves.

Secrets are replaced by "[redacted]" in every string before the line is written.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import IO, Any

from glmcode.agent.redaction import Redactor
from glmcode.events import Compacted, Event, MessageAdded, ReasoningDelta, TextDelta
from glmcode.llm.content import has_images

FORMAT_VERSION = 1
_DELTAS = (TextDelta, ReasoningDelta)
_DURABLE = (MessageAdded, Compacted)


def new_session_id(now: float | None = None) -> str:
    """Sortable by time, unique enough for one user's sessions."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    # os.urandom is what secrets.token_hex reads, without importing secrets (and hmac) at start.
    return f"{stamp}-{os.urandom(3).hex()}"


class SessionWriter:
    """Appends to `path`; a new file gets the header first. An existing file (a resumed
    session) is continued after its last whole line."""

    def __init__(
        self,
        path: Path,
        *,
        session_id: str,
        header: dict[str, Any] | None = None,
        redact: Iterable[str] = (),
        images: Path | None = None,
    ) -> None:
        """`images`: the folder inline images are stored in (by hash), so that the file holds
        references instead of base64; without it they are written inline."""
        self.path = path
        self._images = images
        self.session_id = session_id
        self._redactor = Redactor(redact)
        self._pending_type = ""
        self._pending: list[str] = []
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        _drop_partial_line(path)
        # Only the user may read a transcript: it holds their code and their tools' output.
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        # A lone surrogate (from undecodable bytes) must not fail the write: it becomes "?".
        self._file: IO[str] = open(fd, "a", encoding="utf-8", errors="replace")
        if self._file.tell() == 0:
            first = {"type": "session", "version": FORMAT_VERSION, "id": session_id}
            first.update(header or {})
            self._write_line(first)
        self._file.flush()

    def write(self, event: Event) -> None:
        if isinstance(event, _DELTAS):
            if event.type != self._pending_type:
                self._write_pending()
                self._pending_type = event.type
            self._pending.append(event.text)
            return
        self._write_pending()
        if self._images is not None and _carries_images(event):
            event = _with_image_references(event, self._images)
        self._write_line(event.to_dict())
        self._file.flush()
        if isinstance(event, _DURABLE):
            os.fsync(self._file.fileno())

    def write_record(self, record: dict[str, Any]) -> None:
        """A bookkeeping record (not an event), flushed and synced at once."""
        self._write_pending()
        self._write_line(record)
        self._file.flush()
        os.fsync(self._file.fileno())

    def _write_pending(self) -> None:
        if self._pending:
            self._write_line({"type": self._pending_type, "text": "".join(self._pending)})
            self._pending = []
        self._pending_type = ""

    def _write_line(self, record: dict[str, Any]) -> None:
        line = json.dumps(self._redactor.value(record), ensure_ascii=False)
        self._file.write(line + "\n")

    def close(self) -> None:
        if not self._file.closed:
            self._write_pending()
            self._file.flush()
            self._file.close()

    def __enter__(self) -> SessionWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _carries_images(event: Event) -> bool:
    if isinstance(event, MessageAdded):
        return has_images(event.message)
    return isinstance(event, Compacted) and any(has_images(m) for m in event.messages)


def _with_image_references(event: Event, folder: Path) -> Event:
    from glmcode.images.store import to_references

    if isinstance(event, MessageAdded):
        message = to_references(event.message, folder)
        return event if message is event.message else MessageAdded(message)
    if isinstance(event, Compacted):
        messages = [to_references(m, folder) for m in event.messages]
        return replace(event, messages=messages)
    return event


def _drop_partial_line(path: Path) -> None:
    """A line the process was writing when it died is cut off at its last whole line: the
    fragment cannot be read anyway, and the records appended next must start on a line of
    their own."""
    try:
        with open(path, "r+b") as f:
            size = f.seek(0, os.SEEK_END)
            if size == 0:
                return
            f.seek(max(0, size - 1))
            if f.read(1) == b"\n":
                return
            keep = 0
            block = 64 * 1024
            end = size
            while end > 0:
                start = max(0, end - block)
                f.seek(start)
                chunk = f.read(end - start)
                found = chunk.rfind(b"\n")
                if found != -1:
                    keep = start + found + 1
                    break
                end = start
            f.truncate(keep)
    except FileNotFoundError:
        return
