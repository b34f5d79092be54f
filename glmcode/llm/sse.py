"""Server-sent events: the `data:` payloads of a streamed reply, one string each."""

from __future__ import annotations

from typing import Iterable, Iterator

DONE = "[DONE]"


class SSEReader:
    """Reads `data:` payloads from the lines of an event stream.

    Feed it lines without their terminators (what httpx's `iter_lines()` gives); stray `\\r`
    or `\\n` at a line's end are tolerated. Comments (`:` lines) and fields other than `data`
    are skipped, several `data:` lines of one event are joined with newlines, and reading stops
    at `data: [DONE]`. Afterwards `done` tells whether that terminator came: a stream that
    ends without it was cut short.
    """

    def __init__(self, lines: Iterable[bytes | str]) -> None:
        self._lines = lines
        self.done = False

    def __iter__(self) -> Iterator[str]:
        pending: str | None = None
        for line in self._lines:
            if isinstance(line, bytes):
                line = line.decode("utf-8")
            if line and line[-1] in "\r\n":
                line = line.rstrip("\r\n")
            if not line:
                if pending is not None:
                    yield pending
                    pending = None
                continue
            if line.startswith("data:"):
                value = line[6:] if line.startswith("data: ") else line[5:]
                if pending is None:
                    # Stop at the terminator itself: a server may keep the connection open
                    # after it.
                    if value == DONE:
                        self.done = True
                        return
                    pending = value
                else:
                    pending = pending + "\n" + value
        # The last event may lack its blank line when the server closes right after it.
        if pending is not None:
            yield pending
