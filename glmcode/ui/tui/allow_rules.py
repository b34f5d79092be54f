"""Adding an allow rule to a project's `.glmcode/config.toml` without disturbing the rest.

The file is someone's own: its comments, order and spacing stay as they are. The rule goes into
the `allow` array of `[permissions]` (created when missing) by a small textual edit, and the
edit is checked by parsing the result: unless it holds exactly the old settings plus the new
rule, nothing is written.
"""

from __future__ import annotations

import copy
import json
import re
import sys
from pathlib import Path
from typing import Any

from glmcode.atomic import write_atomic

_HEADER = re.compile(r"^[ \t]*\[[ \t]*([^\[\]]+?)[ \t]*\][ \t]*(#.*)?$", re.MULTILINE)
_ALLOW = re.compile(r"^[ \t]*[\"']?allow[\"']?[ \t]*=[ \t]*", re.MULTILINE)


class RuleFileError(Exception):
    """The file could not be edited safely; it is left as it was."""


def save_allow_rule(config_file: Path, rule: str) -> bool:
    """Adds `rule` to `[permissions] allow`; False when it was there already."""
    old_text = _read(config_file)
    old = _parse(old_text, config_file)
    allowed = old.get("permissions", {}).get("allow", [])
    if not isinstance(allowed, list):
        raise RuleFileError(f"{config_file}: permissions.allow is not a list")
    if rule in allowed:
        return False
    new_text = with_rule(old_text, rule)
    expected = copy.deepcopy(old)
    expected.setdefault("permissions", {}).setdefault("allow", []).append(rule)
    if new_text is None or _parse(new_text, config_file) != expected:
        raise RuleFileError(
            f"could not add the rule to {config_file} safely; add {json.dumps(rule)} to "
            "allow under [permissions] yourself"
        )
    _write(config_file, new_text)
    return True


def with_rule(text: str, rule: str) -> str | None:
    """`text` with `rule` added to the allow array of `[permissions]`; None when the layout is
    one this edit does not handle (a dotted or inline-table form)."""
    literal = json.dumps(rule, ensure_ascii=False)
    section = _section(text, "permissions")
    if section is None:
        if re.search(r"^[ \t]*permissions[ \t]*[.=]", text, re.MULTILINE):
            return None
        lead = "" if not text else ("\n" if text.endswith("\n") else "\n\n")
        return f"{text}{lead}[permissions]\nallow = [{literal}]\n"
    start, end = section
    found = _ALLOW.search(text, start, end)
    if found is None:
        line_end = text.find("\n", start)
        cut = len(text) if line_end < 0 else line_end + 1
        prefix = text[:cut] if line_end >= 0 else text + "\n"
        return f"{prefix}allow = [{literal}]\n{text[cut:]}"
    if found.end() >= len(text) or text[found.end()] != "[":
        return None
    span = _array_end(text, found.end())
    if span is None:
        return None
    close, last = span
    if last is None:
        return f"{text[:close]}{literal}{text[close:]}"
    if text[last] == ",":
        return f"{text[:last + 1]} {literal}{text[last + 1:]}"
    return f"{text[:last + 1]}, {literal}{text[last + 1:]}"


def _section(text: str, name: str) -> tuple[int, int] | None:
    """Where the table `[name]` starts (its header) and ends (the next header)."""
    headers = list(_HEADER.finditer(text))
    for n, header in enumerate(headers):
        if header.group(1).strip("\"' ") == name:
            end = headers[n + 1].start() if n + 1 < len(headers) else len(text)
            return header.start(), end
    return None


def _array_end(text: str, start: int) -> tuple[int, int | None] | None:
    """For the array opening at `start`: the index of its closing bracket, and of the last
    character before it that is neither space nor comment (None for an empty array)."""
    depth = 0
    last: int | None = None
    i = start
    while i < len(text):
        ch = text[i]
        if ch == "#":
            newline = text.find("\n", i)
            i = len(text) if newline < 0 else newline
            continue
        if ch in "\"'":
            quote = ch * 3 if text.startswith(ch * 3, i) else ch
            j = i + len(quote)
            while j < len(text) and not text.startswith(quote, j):
                j += 2 if ch == '"' and text[j] == "\\" else 1
            if j >= len(text):
                return None
            last = j + len(quote) - 1
            i = last + 1
            continue
        if ch == "[":
            depth += 1
            if depth > 1:
                last = i
        elif ch == "]":
            depth -= 1
            if depth == 0:
                return i, last
            last = i
        elif not ch.isspace():
            last = i
        i += 1
    return None


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleFileError(f"cannot read {path}: {exc}") from None


def _parse(text: str, path: Path) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RuleFileError(f"{path} is not valid TOML ({exc}); it was left as it was") from None


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, text.encode("utf-8"))
