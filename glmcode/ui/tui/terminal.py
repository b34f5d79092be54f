"""The terminal's input side while a run draws on the screen."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO


@contextmanager
def quiet_input(stream: IO[str]) -> Iterator[None]:
    """While a run is on screen, keys typed are not echoed into the drawing; they wait, and the
    next prompt reads them. Ctrl-C still interrupts (the signal keys stay on)."""
    try:
        import termios
    except ImportError:  # not a POSIX terminal
        yield
        return
    try:
        fd = stream.fileno()
        saved = termios.tcgetattr(fd)
    except (termios.error, OSError, ValueError):
        yield
        return
    quiet = list(saved)
    # Enter stays a carriage return: turned into a newline on arrival, it would reach the next
    # prompt as Ctrl-J, which adds a line instead of sending what was typed ahead.
    quiet[0] = saved[0] & ~termios.ICRNL
    quiet[3] = saved[3] & ~(termios.ECHO | termios.ICANON)
    termios.tcsetattr(fd, termios.TCSANOW, quiet)
    try:
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSANOW, saved)
