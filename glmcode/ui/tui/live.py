"""The live area: the last few lines of the terminal, redrawn in place on a timer.

Everything above it is scrollback, written once: `commit` queues a renderable, and the next
frame prints it above the live area and draws the live area again below it. A frame is one
write: move the cursor to the top of the live area, erase to the end of the screen, print,
wrapped in the synchronized-output mode (DEC 2026) so terminals and tmux that know it show the
frame whole, and the rest ignore the wrapper. Nothing else is ever erased, so there is no
full-screen redraw and nothing to flicker.

Frames come from a timer thread at a fixed rate, never from the tokens, so the cost of drawing
does not grow with the speed of the stream. The caller changes what the live area shows while
holding `lock`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

SYNC_BEGIN = "\x1b[?2026h"
SYNC_END = "\x1b[?2026l"
HIDE_CURSOR = "\x1b[?25l"
SHOW_CURSOR = "\x1b[?25h"
FPS = 12.0


class LiveArea:
    def __init__(
        self,
        console: Console,
        render: Callable[[], RenderableType | None],
        *,
        fps: float = FPS,
    ) -> None:
        self.console = console
        self.lock = threading.RLock()
        self._render = render
        self._interval = 1.0 / fps
        self._commits: list[Any] = []
        self._rows = 0  # rows the live area occupies on screen now
        self._shown = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.frames = 0

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._write(HIDE_CURSOR)
        self._thread = threading.Thread(target=self._loop, name="glmcode-live", daemon=True)
        self._thread.start()

    def commit(self, renderable: RenderableType) -> None:
        """Print `renderable` into the scrollback with the next frame, above the live area."""
        with self.lock:
            self._commits.append(renderable)

    def refresh(self) -> None:
        """Draw a frame now rather than at the next tick."""
        with self.lock:
            self._frame(final=False)

    def stop(self) -> None:
        """Print what is queued, erase the live area and give the cursor back. The live area is
        transient: what should stay must be committed before."""
        thread, self._thread = self._thread, None
        self._stop.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join()
        with self.lock:
            self._frame(final=True)
        if thread is not None:
            self._write(SHOW_CURSOR)

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            with self.lock:
                if self._stop.is_set():
                    return
                self._frame(final=False)

    def _frame(self, *, final: bool) -> None:
        commits, self._commits = self._commits, []
        live = "" if final else self._live_text()
        if not commits and live == self._shown:
            return
        parts = [SYNC_BEGIN, self._erase()]
        parts += [self._ansi(r) for r in commits]
        parts.append(live)
        parts.append(SYNC_END)
        self._write("".join(parts))
        self._shown = live
        self._rows = live.count("\n") + 1 if live else 0
        self.frames += 1

    def _erase(self) -> str:
        if self._rows == 0:
            return ""
        up = f"\x1b[{self._rows - 1}A" if self._rows > 1 else ""
        return f"\r{up}\x1b[J"

    def _live_text(self) -> str:
        from rich.segment import Segment, Segments

        renderable = self._render()
        if renderable is None:
            return ""
        console = self.console
        options = console.options
        lines = console.render_lines(renderable, options, pad=False)
        # Taller than the screen, the top rows would scroll out of reach of the cursor and
        # could never be erased: show the bottom of it.
        room = max(1, console.size.height - 2)
        lines = lines[-room:]
        segments: list[Segment] = []
        for n, line in enumerate(lines):
            if n:
                segments.append(Segment.line())
            segments.extend(line)
        with console.capture() as capture:
            console.print(Segments(segments), end="")
        return capture.get()

    def _ansi(self, renderable: Any) -> str:
        console = self.console
        with console.capture() as capture:
            console.print(renderable)
        return capture.get()

    def _write(self, text: str) -> None:
        out = self.console.file
        out.write(text)
        out.flush()
