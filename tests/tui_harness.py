"""Drive a real `glmcode` process in a pseudo-terminal and read its screen with pyte.

`Term.wait(text)` polls the child's output (pexpect with a short read timeout) into a pyte
screen until the text is on it, so tests wait for what the user would see, never for a fixed
time. pyte answers the cursor-position queries prompt-toolkit sends, as a real terminal does.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pexpect
import pyte

ROWS, COLS = 32, 110
KEY = "test-key-5d1c"


class _Screen(pyte.Screen):
    def __init__(self, columns: int, lines: int, reply: Callable[[str], None]) -> None:
        super().__init__(columns, lines)
        self._reply = reply

    def write_process_input(self, data: str) -> None:
        self._reply(data)


class Term:
    def __init__(self, args: list[str], cwd: Path, base_url: str, env_extra: dict[str, str] | None = None) -> None:
        env = dict(os.environ)
        env.update({"ZAI_API_KEY": KEY, "GLMCODE_BASE_URL": base_url, "TERM": "xterm-256color",
                    "COLUMNS": str(COLS), "LINES": str(ROWS)})
        env.pop("NO_COLOR", None)
        env.update(env_extra or {})
        self.child = pexpect.spawn(
            sys.executable, ["-m", "glmcode", *args], cwd=str(cwd), env=env,
            dimensions=(ROWS, COLS), encoding="utf-8", codec_errors="replace",
        )
        self.screen = _Screen(COLS, ROWS, self.child.send)
        self.stream = pyte.Stream(self.screen)
        self.raw = ""

    def text(self) -> str:
        return "\n".join(line.rstrip() for line in self.screen.display)

    def bottom(self) -> str:
        return self.screen.display[-1].rstrip()

    def pump(self, timeout: float = 0.05) -> bool:
        """Read what the child wrote; False once it has exited."""
        try:
            data = self.child.read_nonblocking(65536, timeout=timeout)
        except pexpect.TIMEOUT:
            return True
        except pexpect.EOF:
            return False
        self.raw += data
        self.stream.feed(data)
        return True

    def wait(self, text: str | Callable[[str], bool], timeout: float = 15.0) -> str:
        """Polls until `text` is on the screen (or the predicate holds for the screen's text)."""
        check = text if callable(text) else (lambda screen: text in screen)
        deadline = time.monotonic() + timeout
        while True:
            alive = self.pump()
            screen = self.text()
            if check(screen):
                return screen
            if not alive or time.monotonic() > deadline:
                what = "the process exited" if not alive else f"{timeout}s passed"
                raise AssertionError(f"{what} before {text!r} showed; the screen:\n{screen}")

    def wait_exit(self, timeout: float = 10.0) -> int:
        deadline = time.monotonic() + timeout
        while self.pump():
            if time.monotonic() > deadline:
                raise AssertionError(f"still running; the screen:\n{self.text()}")
        self.child.close()
        return self.child.exitstatus if self.child.exitstatus is not None else -(self.child.signalstatus or 0)

    def send(self, keys: str) -> None:
        self.child.send(keys)

    def close(self) -> None:
        if self.child.isalive():
            self.child.terminate(force=True)


@contextmanager
def sessions(fake_glm: Callable[..., Any], project: Path) -> Iterator[Callable[..., tuple[Term, Any, Path]]]:
    """`start(turns, args)`: a fake GLM server playing `turns` and a `glmcode` session in
    `project` against it, waited for until its prompt shows (unless `wait=False`); every
    session started is closed at the end."""
    terms: list[Term] = []

    def start(turns: list, args: list[str] | None = None, *, wait: bool = True) -> tuple[Term, Any, Path]:
        fake = fake_glm(turns)
        term = Term(args or [], project, fake.base_url)
        terms.append(term)
        if wait:
            term.wait(lambda _: "(shift-tab)" in term.bottom())
        return term, fake, project

    try:
        yield start
    finally:
        for term in terms:
            term.close()
