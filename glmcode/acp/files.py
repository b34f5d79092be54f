"""The editor's buffers as glmcode's tools see them, through `fs/read_text_file` and
`fs/write_text_file` when the editor offers them: a read sees unsaved changes, an edit lands
in the editor (which shows it, and saves it as it saves any change). Paths are confined by the
tools before they get here, as on disk."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from acp import RequestError

from glmcode.acp.bridge import Bridge, Cancelled
from glmcode.tools.base import ToolError

log = logging.getLogger("glmcode.acp")


class ClientFiles:
    """An EditorFiles (glmcode/tools/base.py) for one session; either half may be missing when
    the editor offers only the other."""

    def __init__(self, bridge: Bridge, conn: Any, session_id: str, *, read: bool, write: bool) -> None:
        self.bridge = bridge
        self.conn = conn
        self.session_id = session_id
        self.can_read = read
        self.writes = write

    def read_text(self, path: Path) -> str | None:
        if not self.can_read:
            return None
        try:
            response = self.bridge.call(
                lambda: self.conn.read_text_file(session_id=self.session_id, path=str(path))
            )
        except Cancelled:
            raise self.bridge.interrupt() from None
        except RequestError as exc:
            # The editor could not give it (a file it will not open, say): the disk has it.
            log.info("the editor did not read %s (%s); reading the disk", path, exc)
            return None
        return str(response.content)

    def write_text(self, path: Path, text: str) -> None:
        try:
            self.bridge.call(
                lambda: self.conn.write_text_file(session_id=self.session_id, path=str(path), content=text)
            )
        except Cancelled:
            raise self.bridge.interrupt() from None
        except RequestError as exc:
            raise ToolError(f"the editor refused to write {path}: {exc}") from None

