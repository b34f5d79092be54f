"""Shortening long text for the model: keep the head and the tail, where commands print what
they are doing and how they ended, and say how much of the middle was left out."""

from __future__ import annotations

from glmcode.text import count

HEAD_LINES = 100
TAIL_LINES = 100
MAX_CHARS = 30_000


def head_tail(
    text: str, head: int = HEAD_LINES, tail: int = TAIL_LINES, max_chars: int = MAX_CHARS
) -> str:
    """`text` itself when it fits in `head + tail` lines and `max_chars` characters; otherwise
    its first `head` and last `tail` lines (fewer, or parts of lines, when they would pass
    `max_chars`) around a line that says what was left out."""
    head_budget = max_chars // 2
    head_end, head_whole = _head_end(text, head, head_budget)
    tail_start, tail_whole = _tail_start(text, tail, max_chars - head_budget)
    if head_end >= tail_start:
        return text
    left_out = text[head_end:tail_start]
    lines = left_out.count("\n")
    if head_whole and tail_whole:
        note = f"... {count(lines, 'line')} left out ..."
    else:
        chars = count(len(left_out), "character")
        note = f"... {chars} ({count(lines, 'line break')}) left out ..."
    shown_head = text[:head_end]
    if shown_head and not shown_head.endswith("\n"):
        shown_head += "\n"
    return f"{shown_head}{note}\n{text[tail_start:]}"


def _head_end(text: str, lines: int, budget: int) -> tuple[int, bool]:
    """Where the kept head ends, and whether it ends on a line boundary."""
    end = 0
    for _ in range(lines):
        newline = text.find("\n", end)
        if newline == -1:
            end = len(text)
            break
        end = newline + 1
    if end <= budget:
        return end, True
    newline = text.rfind("\n", 0, budget)
    if newline != -1:
        return newline + 1, True
    return budget, False


def _tail_start(text: str, lines: int, budget: int) -> tuple[int, bool]:
    """Where the kept tail starts, and whether it starts on a line boundary."""
    start = len(text) - 1 if text.endswith("\n") else len(text)
    for _ in range(lines):
        start = text.rfind("\n", 0, start)
        if start == -1:
            break
    start = start + 1 if lines else len(text)
    lowest = len(text) - budget
    if start >= lowest:
        return start, True
    newline = text.find("\n", lowest)
    if newline != -1 and newline + 1 < len(text):
        return newline + 1, True
    return max(lowest, 0), False

