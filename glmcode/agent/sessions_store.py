"""Reading session files back: the list of a project's sessions, and one session replayed into
the conversation it holds, ready to continue.

Replaying follows the records in order: `message` appends, `compacted` replaces the
conversation, `rewind` cuts it back. A file cut short by a crash is read up to its last whole
line; a conversation that stopped between a tool call and its result gets "interrupted"
results, so the next request is valid.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from glmcode.events import TokenUsage
from glmcode.llm.content import has_images
from glmcode.text import count

INTERRUPTED_RESULT = (
    "Error: interrupted; glmcode stopped before this call finished (it was killed or crashed), "
    "so whether it ran is unknown. Check before relying on it."
)


class SessionNotFound(Exception):
    """No session matches what the user asked for; the message says what there is."""


@dataclass(frozen=True)
class CheckpointMark:
    """A snapshot of the workspace taken before the first change of the run for `prompt`.
    `position` is the record's place in the file, which orders it among the messages."""

    commit: str
    tree: str
    prompt: str
    time: float
    position: int
    undone: bool = False
    after_tree: str | None = None  # the workspace when the run ended; None if it never did


@dataclass
class Replay:
    """A session file read back. `messages` starts with the system prompt, as the agent's do;
    `system_known` is False for a file that did not record it. `positions` holds, for each
    message, the place in the file of the record that first added it."""

    path: Path
    header: dict[str, Any]
    messages: list[dict[str, Any]]
    system_known: bool
    positions: list[int] = field(default_factory=list)
    checkpoints: list[CheckpointMark] = field(default_factory=list)
    usage: TokenUsage = field(default_factory=TokenUsage)
    cost_usd: float = 0.0
    turns: int = 0
    repairs: list[dict[str, Any]] = field(default_factory=list)
    interrupted: list[str] = field(default_factory=list)
    skipped_lines: int = 0

    @property
    def session_id(self) -> str:
        return str(self.header.get("id") or self.path.stem)


@dataclass(frozen=True)
class SessionInfo:
    """One line of the session list."""

    id: str
    path: Path
    created: float
    updated: float
    first_prompt: str
    turns: int
    cost_usd: float
    model: str


def read_records(path: Path) -> tuple[list[dict[str, Any]], int, bool]:
    """The file's records, how many lines could not be read, and whether the last line was
    cut off (written in part when the process died)."""
    lines = path.read_bytes().split(b"\n")
    records: list[dict[str, Any]] = []
    skipped = 0
    cut_tail = False
    for n, raw in enumerate(lines):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw.decode("utf-8", errors="replace"))
        except ValueError:
            record = None
        if isinstance(record, dict):
            records.append(record)
        elif n == len(lines) - 1:
            cut_tail = True  # no newline after it: the write never finished
        else:
            skipped += 1
    return records, skipped, cut_tail


def replay(path: Path) -> Replay:
    """The session in `path` as it stands, repaired so the conversation can go on."""
    records, skipped, cut_tail = read_records(path)
    header = records[0] if records and records[0].get("type") == "session" else {}
    system = header.get("system_prompt")
    state = Replay(
        path=path,
        header=header,
        messages=[{"role": "system", "content": system if isinstance(system, str) else ""}],
        system_known=isinstance(system, str),
        positions=[-1],
        skipped_lines=skipped,
    )
    streamed = 0
    replied = True
    for position, record in enumerate(records):
        kind = record.get("type")
        if kind == "message" and isinstance(record.get("message"), dict):
            message = _with_images(record["message"], header)
            state.messages.append(message)
            state.positions.append(position)
            if message.get("role") == "assistant":
                replied = True
        elif kind == "compacted" and isinstance(record.get("messages"), list):
            _compact(state, [_with_images(m, header) for m in record["messages"] if isinstance(m, dict)], position)
        elif kind == "rewind" and isinstance(record.get("keep"), int):
            keep = max(1, record["keep"])
            state.messages, state.positions = state.messages[:keep], state.positions[:keep]
        elif kind == "checkpoint":
            _add_checkpoint(state, record, position)
        elif kind == "checkpoint_after":
            before, tree = record.get("before"), record.get("tree")
            if isinstance(before, str) and isinstance(tree, str):
                state.checkpoints = [
                    replace(c, after_tree=tree) if c.commit == before else c for c in state.checkpoints
                ]
        elif kind == "undo":
            undone = set(record.get("commits") or ())
            state.checkpoints = [replace(c, undone=True) if c.commit in undone else c for c in state.checkpoints]
        elif kind == "usage":
            _add_usage(state, record)
        elif kind == "tool_result" and isinstance(record.get("data"), dict):
            state.cost_usd += _spent(record["data"])  # a web search, a cheap model's answer
        elif kind == "turn_started":
            state.turns += 1
            streamed, replied = 0, False
        elif kind in ("text", "reasoning"):
            streamed += len(str(record.get("text") or ""))
        elif kind in ("error", "run_finished"):
            replied = True
    _repair(state, replied, streamed, cut_tail, len(records))
    return state


def _with_images(message: dict[str, Any], header: dict[str, Any]) -> dict[str, Any]:
    """The message with its stored images put back (they are kept by hash beside the sessions,
    in the folder the header names)."""
    folder = header.get("images")
    if not isinstance(folder, str) or not has_images(message):
        return message
    from glmcode.images.store import from_references

    return from_references(message, Path(folder))


def _compact(state: Replay, new: list[dict[str, Any]], position: int) -> None:
    """The conversation becomes `new`; a message kept from before keeps its position."""
    old = list(zip(state.messages, state.positions))
    positions = []
    for message in new:
        found = next((n for n in range(len(old) - 1, 0, -1) if old[n][0] == message), None)
        if found is None:
            positions.append(position)
        else:
            positions.append(old[found][1])
            del old[found]
    state.messages = [state.messages[0], *new]
    state.positions = [-1, *positions]


def _add_checkpoint(state: Replay, record: dict[str, Any], position: int) -> None:
    commit, tree = record.get("commit"), record.get("tree")
    if isinstance(commit, str) and isinstance(tree, str):
        when = record.get("time")
        state.checkpoints.append(
            CheckpointMark(
                commit,
                tree,
                str(record.get("prompt") or ""),
                float(when) if isinstance(when, (int, float)) else 0.0,
                position,
            )
        )


def _add_usage(state: Replay, record: dict[str, Any]) -> None:
    def number(key: str) -> int:
        value = record.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else 0

    usage = TokenUsage(number("prompt_tokens"), number("completion_tokens"), number("cached_tokens"))
    state.usage = state.usage + usage
    cost = record.get("cost_usd")
    if isinstance(cost, (int, float)) and not isinstance(cost, bool):
        state.cost_usd += float(cost)


def _spent(record: dict[str, Any]) -> float:
    cost = record.get("cost_usd")
    return float(cost) if isinstance(cost, (int, float)) and not isinstance(cost, bool) else 0.0


def _repair(state: Replay, replied: bool, streamed: int, cut_tail: bool, end: int) -> None:
    """Answers calls left without results (as if added at `end`) and says what was cut off."""
    messages = state.messages
    if cut_tail:
        state.interrupted.append("the last line of the session file was cut off and is left out")
    if state.skipped_lines:
        state.interrupted.append(f"{count(state.skipped_lines, 'unreadable line')} of the session file skipped")
    last_call = next(
        (i for i in range(len(messages) - 1, 0, -1) if messages[i].get("role") == "assistant"), None
    )
    if last_call is not None and messages[last_call].get("tool_calls"):
        answered = {m.get("tool_call_id") for m in messages[last_call + 1 :] if m.get("role") == "tool"}
        missing = [c for c in messages[last_call]["tool_calls"] if c.get("id") not in answered]
        if missing:
            names = ", ".join(str((c.get("function") or {}).get("name", "?")) for c in missing)
            state.interrupted.append(
                f"{count(len(missing), 'tool call')} never finished ({names}); marked as interrupted"
            )
            for call in missing:
                repair = {"role": "tool", "tool_call_id": call.get("id"), "content": INTERRUPTED_RESULT}
                state.repairs.append(repair)
                messages.append(repair)
                state.positions.append(end)
    if not replied:
        shown = f" after {streamed:,} characters" if streamed else ""
        state.interrupted.append(f"the model's reply was cut off{shown} and is not in the conversation")
    elif messages[-1].get("role") == "user" and len(messages) > 1:
        state.interrupted.append("your last message got no answer")


def list_sessions(folder: Path) -> list[SessionInfo]:
    """The sessions in `folder` that hold at least one message, the latest first."""
    out = []
    try:
        paths = list(folder.glob("*.jsonl"))
    except OSError:
        return []
    for path in paths:
        info = session_info(path)
        if info is not None:
            out.append(info)
    out.sort(key=lambda s: (s.updated, s.id), reverse=True)
    return out


def session_info(path: Path) -> SessionInfo | None:
    """What the list shows of one file, read without decoding every line."""
    try:
        stat = path.stat()
        handle = open(path, "rb")
    except OSError:
        return None
    header: dict[str, Any] = {}
    first_prompt: str | None = None
    turns = 0
    cost = 0.0
    with handle:
        for raw in handle:
            if raw.startswith(b'{"type": "turn_started"'):
                turns += 1
            elif raw.startswith(b'{"type": "usage"'):
                cost += _spent(_loads(raw))
            elif raw.startswith(b'{"type": "tool_result"') and b'"cost_usd"' in raw:
                data = _loads(raw).get("data")
                cost += _spent(data) if isinstance(data, dict) else 0.0
            elif first_prompt is None and raw.startswith(b'{"type": "message"'):
                message = _loads(raw).get("message") or {}
                if isinstance(message, dict) and message.get("role") == "user":
                    first_prompt = one_line(str(message.get("content") or ""))
            elif not header and raw.startswith(b'{"type": "session"'):
                header = _loads(raw)
    if first_prompt is None:
        return None
    created = header.get("created")
    return SessionInfo(
        id=str(header.get("id") or path.stem),
        path=path,
        created=float(created) if isinstance(created, (int, float)) else stat.st_mtime,
        updated=stat.st_mtime,
        first_prompt=first_prompt,
        turns=turns,
        cost_usd=cost,
        model=str(header.get("model") or ""),
    )


def _loads(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw.decode("utf-8", errors="replace"))
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def one_line(text: str, width: int = 60) -> str:
    """The first non-empty line, whitespace folded, cut to `width` characters."""
    line = next((ln for ln in text.splitlines() if ln.strip()), "")
    line = " ".join(line.split())
    return line if len(line) <= width else line[: width - 1] + "…"


def find_session(sessions: list[SessionInfo], ref: str) -> SessionInfo:
    """The session `ref` names: its number in the list (1 is the latest), its id, or the start
    of its id."""
    ref = ref.strip()
    if not sessions:
        raise SessionNotFound("there are no sessions for this project yet")
    if ref.isdigit() and 1 <= int(ref) <= len(sessions) and len(ref) < 6:
        return sessions[int(ref) - 1]
    exact = [s for s in sessions if s.id == ref]
    if exact:
        return exact[0]
    matches = [s for s in sessions if s.id.startswith(ref)] if ref else []
    if len(matches) == 1:
        return matches[0]
    if matches:
        shown = ", ".join(s.id for s in matches[:5])
        raise SessionNotFound(f"{ref!r} fits {len(matches)} sessions ({shown}); give more of the id")
    raise SessionNotFound(
        f"no session {ref!r} in this project; `glmcode sessions` lists them (pick by number or id)"
    )


def format_sessions(sessions: list[SessionInfo], now: float | None = None) -> Iterator[str]:
    """The list as the terminal shows it, one line each, numbered from the latest."""
    now = time.time() if now is None else now
    width = len(str(len(sessions)))
    for n, s in enumerate(sessions, 1):
        turns = count(s.turns, "turn")
        yield (
            f"{n:>{width}}  {_when(s.updated, now):<16}  {s.id:<22}  {turns:>9}  ${s.cost_usd:>7.4f}  "
            f"{s.first_prompt}"
        )


def _when(stamp: float, now: float) -> str:
    local = time.localtime(stamp)
    if time.strftime("%Y-%m-%d", local) == time.strftime("%Y-%m-%d", time.localtime(now)):
        return time.strftime("today %H:%M", local)
    return time.strftime("%Y-%m-%d %H:%M", local)
