"""`@path` in a prompt: the file's content goes along with the message, so the model need not
spend a turn reading it. Each file is capped, and the message says when it was cut and how the
model can read the rest. A path outside the workspace goes through the permission policy
as a read_file call would: asked about, or refused (the secret folders always). An image
(`@shot.png`, or an image's path pasted or dragged into the prompt, which terminals insert as
text) goes along as an image instead."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from glmcode.agent.tool_calls import ApprovalRequest

from glmcode.images.load import is_image_path

MAX_LINES = 2000
MAX_CHARS = 60_000
MAX_TOTAL_CHARS = 200_000
MAX_ENTRIES = 200
_MENTION = re.compile(r"(?<![\w@/])@([^\s`'\"<>]+)")
_TRAILING = ".,;:!?)]}"
# A path as a terminal pastes a dragged file: bare, or quoted when it holds spaces.
_PASTED_IMAGE = re.compile(
    r"""(?:'([^'\n]+\.(?:png|jpe?g|webp|gif))'|"([^"\n]+\.(?:png|jpe?g|webp|gif))"|((?:~|\.{0,2})?/[^\s'"]+\.(?:png|jpe?g|webp|gif)))""",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Attachment:
    shown: str  # the path as written, relative to the working directory
    lines: int
    truncated: bool
    folder: bool = False


@dataclass(frozen=True)
class Expanded:
    message: str
    attached: tuple[Attachment, ...]
    problems: tuple[str, ...]
    images: tuple[tuple[str, Path], ...] = ()  # (as written, where it is)


def expand_mentions(prompt: str, cwd: Path, check: Callable[[Path], str | None] | None = None) -> Expanded:
    """The message to send for `prompt`: the prompt itself, then every mentioned file (or
    folder listing) once, each inside an <attached> element. `check(path)` says why a path
    may not be attached, or None when it may."""
    attached: list[Attachment] = []
    problems: list[str] = []
    blocks: list[str] = []
    seen: set[Path] = set()
    images: list[tuple[str, Path]] = []
    total = 0
    for match in _PASTED_IMAGE.finditer(prompt):
        written = next(g for g in match.groups() if g)
        path = Path(written).expanduser()
        path = path if path.is_absolute() else cwd / path
        if path.is_file() and path.resolve() not in seen:
            seen.add(path.resolve())
            images.append((written, path.resolve()))
    for match in _MENTION.finditer(prompt):
        found = _existing(match.group(1), cwd)
        if found is None:
            problems.append(f"@{match.group(1).rstrip(_TRAILING)}: no such file or folder here; sent as written")
            continue
        shown, path = found
        if path in seen:
            continue
        seen.add(path)
        refused = check(path) if check is not None else None
        if refused is not None:
            problems.append(f"@{shown} not attached: {refused}")
            continue
        if path.is_file() and is_image_path(path):
            images.append((shown, path))
            continue
        if total >= MAX_TOTAL_CHARS:
            problems.append(f"@{shown} not attached: the message already carries {MAX_TOTAL_CHARS:,} characters of files")
            continue
        if path.is_dir():
            block, attachment = _folder(shown, path)
        else:
            read = _file(shown, path, min(MAX_CHARS, MAX_TOTAL_CHARS - total))
            if isinstance(read, str):
                problems.append(read)
                continue
            block, attachment = read
        total += len(block)
        blocks.append(block)
        attached.append(attachment)
    message = prompt if not blocks else prompt.rstrip() + "\n\n" + "\n\n".join(blocks)
    return Expanded(message, tuple(attached), tuple(problems), tuple(images))


def _existing(raw: str, cwd: Path) -> tuple[str, Path] | None:
    """The mentioned path, also when the sentence's punctuation follows it (`see @a.py.`)."""
    candidate = raw
    while candidate:
        path = (cwd / candidate).expanduser() if not candidate.startswith("~") else Path(candidate).expanduser()
        if path.exists():
            return candidate.rstrip("/") or candidate, path.resolve()
        if candidate[-1] not in _TRAILING:
            return None
        candidate = candidate[:-1]
    return None


def _file(shown: str, path: Path, budget: int) -> tuple[str, Attachment] | str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        return f"@{shown} not attached: {exc.strerror or exc}"
    if b"\x00" in data[:8192]:
        return f"@{shown} not attached: it is a binary file"
    text = data.decode("utf-8", errors="replace")
    lines = text.splitlines()
    kept = lines[:MAX_LINES]
    body = "\n".join(kept)
    if len(body) > budget:
        body = body[:budget]
        kept = body.splitlines()
    truncated = len(kept) < len(lines) or len(body) < len("\n".join(lines))
    note = ""
    if truncated:
        note = (
            f"\n(only the first {len(kept)} of {len(lines)} lines are attached; "
            f"read_file {shown} with offset={len(kept) + 1} for the rest)"
        )
    block = f'<attached path="{shown}" lines="{len(lines)}">\n{body}{note}\n</attached>'
    return block, Attachment(shown, len(lines), truncated)


def _folder(shown: str, path: Path) -> tuple[str, Attachment]:
    try:
        entries = sorted(path.iterdir(), key=lambda p: p.name.lower())
    except OSError as exc:
        listing = [f"(cannot list: {exc.strerror or exc})"]
        entries = []
    else:
        listing = [p.name + ("/" if p.is_dir() else "") for p in entries[:MAX_ENTRIES]]
    if len(entries) > MAX_ENTRIES:
        listing.append(f"... and {len(entries) - MAX_ENTRIES} more")
    block = f'<attached folder="{shown}" entries="{len(entries)}">\n' + "\n".join(listing) + "\n</attached>"
    return block, Attachment(shown, len(entries), len(entries) > MAX_ENTRIES, folder=True)


def policy_check(policy: Any, approver: Callable[[ApprovalRequest], Any]) -> Callable[[Path], str | None]:
    """A `check` that decides a mention as the policy decides a read_file call, asking the
    user where the policy asks."""

    def check(path: Path) -> str | None:
        args = {"path": str(path)}
        verdict = policy.decide("read_file", "read", args)
        if verdict.decision == "allow":
            return None
        if verdict.decision == "ask":
            request = ApprovalRequest("mention", "read_file", "read", args, "", verdict.reason, None, once=True)
            if approver(request).decision == "yes":
                return None
            return "you declined reading it"
        return verdict.reason

    return check
