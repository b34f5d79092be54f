"""The optional block of `key: value` lines between two `---` lines at the top of a command file.

Only flat string values are read (what a command file needs); anything else in the block is
reported rather than guessed at.
"""

from __future__ import annotations

from dataclasses import dataclass

KNOWN_KEYS = ("description", "argument-hint", "model")


@dataclass(frozen=True)
class FrontMatter:
    fields: dict[str, str]
    body: str
    problems: tuple[str, ...]


def split_front_matter(text: str) -> FrontMatter:
    """The fields and the body of a command file; a file without front matter is all body."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        return FrontMatter({}, text, ())
    end = next((n for n in range(1, len(lines)) if lines[n].strip() == "---"), None)
    if end is None:
        return FrontMatter({}, text, ("the front matter has no closing '---' line, so the whole file is the prompt",))
    fields: dict[str, str] = {}
    problems: list[str] = []
    for number, line in enumerate(lines[1:end], start=2):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        key, colon, value = stripped.partition(":")
        key = key.strip().lower()
        if not colon or not key:
            problems.append(f"line {number}: expected 'key: value', got {stripped!r}")
            continue
        if key not in KNOWN_KEYS:
            problems.append(f"line {number}: unknown key {key!r} (known: {', '.join(KNOWN_KEYS)})")
            continue
        fields[key] = _unquote(value.strip())
    return FrontMatter(fields, "".join(lines[end + 1 :]), tuple(problems))


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value
