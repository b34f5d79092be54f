"""Small helpers for the words glmcode prints."""

from __future__ import annotations


def count(n: int, noun: str, plural: str | None = None) -> str:
    """`count(1, "line")` -> "1 line"; `count(2, "line")` -> "2 lines"."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"
