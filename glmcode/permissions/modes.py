"""The permission modes, the kinds of tool a mode tells apart, and the verdict on a call."""

from __future__ import annotations

from dataclasses import dataclass

# Strictest first: a mode further down the list allows more.
MODES: tuple[str, ...] = ("read-only", "ask", "auto-edit", "full-auto")
KINDS: tuple[str, ...] = ("read", "edit", "shell", "meta", "web", "mcp")


def mode_strictness(mode: str) -> int:
    """Higher is stricter: read-only 3, ask 2, auto-edit 1, full-auto 0."""
    return len(MODES) - 1 - MODES.index(mode)


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise ValueError(f"unknown permission mode {mode!r}; expected one of {', '.join(MODES)}")
    return mode


@dataclass(frozen=True)
class Verdict:
    decision: str  # "allow" | "ask" | "deny"
    reason: str
