"""The session transcript: one JSON event per line, written as it happens.

Deltas are buffered by the file object and reach the disk with the next whole event; every
other event is flushed at once, and a grown conversation is fsynced, so the transcript is on
disk before the next request leaves.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from glmcode.events import Event, MessageAdded, ReasoningDelta, TextDelta

FORMAT_VERSION = 1
_BUFFERED = (TextDelta, ReasoningDelta)


def new_session_id(now: float | None = None) -> str:
    """Sortable by time, unique enough for one user's sessions."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    return f"{stamp}-{secrets.token_hex(3)}"


class SessionWriter:
    def __init__(
        self,
        path: Path,
        *,
        session_id: str,
        header: dict[str, Any] | None = None,
        redact: Iterable[str] = (),
    ) -> None:
        self.path = path
        self.session_id = session_id
        self._redact = tuple(s for s in redact if s)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[str] = open(path, "a", encoding="utf-8")
        if self._file.tell() == 0:
            first = {"type": "session", "version": FORMAT_VERSION, "id": session_id}
            first.update(header or {})
            self._write_line(first)
            self._file.flush()

    def write(self, event: Event) -> None:
        self._write_line(event.to_dict())
        if isinstance(event, _BUFFERED):
            return
        self._file.flush()
        if isinstance(event, MessageAdded):
            os.fsync(self._file.fileno())

    def _write_line(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, ensure_ascii=False)
        for secret in self._redact:
            if secret in line:
                line = line.replace(secret, "[redacted]")
        self._file.write(line + "\n")

    def close(self) -> None:
        if not self._file.closed:
            self._file.flush()
            self._file.close()

    def __enter__(self) -> SessionWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
