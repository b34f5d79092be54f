"""The event stream every surface consumes.

The agent yields these; the terminal renders them, `exec --output-format stream-json` prints each
as a JSON line, the session file stores them, and tests assert on them. They are plain frozen
dataclasses so that this module imports nothing heavy.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, ClassVar


@dataclass(frozen=True)
class ToolCall:
    """One tool call as the model asked for it; `arguments` is the raw JSON text."""

    id: str
    name: str
    arguments: str
    index: int = 0


@dataclass(frozen=True)
class TokenUsage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0

    def __add__(self, other: TokenUsage) -> TokenUsage:
        return TokenUsage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
            self.cached_tokens + other.cached_tokens,
        )


class Event:
    """Base of all events; `type` names the event on the wire and in session files."""

    type: ClassVar[str] = "event"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type}
        for f in fields(self):  # type: ignore[arg-type]
            out[f.name] = _plain(getattr(self, f.name))
        return out


def _plain(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if hasattr(value, "__dataclass_fields__"):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    return str(value)


@dataclass(frozen=True)
class SessionStarted(Event):
    type: ClassVar[str] = "session_started"
    session_id: str
    model: str
    cwd: str
    permission_mode: str


@dataclass(frozen=True)
class MessageAdded(Event):
    """The conversation grew by one wire-format message (user, assistant or tool).

    Replaying these in order rebuilds the conversation exactly, which is what resuming needs.
    """

    type: ClassVar[str] = "message"
    message: dict[str, Any]


@dataclass(frozen=True)
class TurnStarted(Event):
    """One model request begins (a user prompt may take many turns)."""

    type: ClassVar[str] = "turn_started"
    turn: int


@dataclass(frozen=True)
class ReasoningDelta(Event):
    type: ClassVar[str] = "reasoning"
    text: str


@dataclass(frozen=True)
class TextDelta(Event):
    type: ClassVar[str] = "text"
    text: str


@dataclass(frozen=True)
class Retrying(Event):
    """A request failed in a way worth retrying; anything streamed since the last
    TurnStarted is void and will be streamed again."""

    type: ClassVar[str] = "retrying"
    reason: str
    wait: float
    attempt: int
    max_attempts: int


@dataclass(frozen=True)
class ToolCallStarted(Event):
    type: ClassVar[str] = "tool_call"
    id: str
    name: str
    arguments: Any


@dataclass(frozen=True)
class ApprovalNeeded(Event):
    """A call waits for the user's answer; `preview` is the diff or the command."""

    type: ClassVar[str] = "approval_needed"
    id: str
    name: str
    reason: str
    preview: str


@dataclass(frozen=True)
class ToolCallFinished(Event):
    """`output` is whole, for the user and the session; the model may have seen less.
    `images`: how many images the result returned."""

    type: ClassVar[str] = "tool_result"
    id: str
    name: str
    output: str
    is_error: bool
    duration: float
    diff: str | None = None
    data: dict[str, Any] | None = None
    images: int = 0


@dataclass(frozen=True)
class Usage(Event):
    type: ClassVar[str] = "usage"
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int
    cost_usd: float
    context_window: int


@dataclass(frozen=True)
class Compacted(Event):
    """Older turns were replaced by a summary so the conversation fits the context window.

    `before` and `after` are the prompt's size in tokens (estimated); `summary` is what the
    model wrote about the part it replaced; `messages` is the whole conversation afterwards,
    without the system prompt, so replaying a session file rebuilds it exactly.
    """

    type: ClassVar[str] = "compacted"
    before: int
    after: int
    summary: str
    messages: list[dict[str, Any]]


@dataclass(frozen=True)
class ImagesDescribed(Event):
    """The vision model described the prompt's images; `description` went to the main model
    in their place. `images` are their labels (`[image shot.png 1280x720]`)."""

    type: ClassVar[str] = "images_described"
    model: str
    images: tuple[str, ...]
    description: str
    cost_usd: float = 0.0


@dataclass(frozen=True)
class TurnFinished(Event):
    type: ClassVar[str] = "turn_finished"
    turn: int
    finish_reason: str


@dataclass(frozen=True)
class Notice(Event):
    """Something the user should know that is not an error (a refused call and how to allow
    it, a loop guard note)."""

    type: ClassVar[str] = "notice"
    message: str
    level: str = "warning"


@dataclass(frozen=True)
class Error(Event):
    type: ClassVar[str] = "error"
    kind: str
    message: str
    hint: str = ""


@dataclass(frozen=True)
class RunFinished(Event):
    """The agent stopped working on the prompt: an answer, a limit, an error or an interrupt."""

    type: ClassVar[str] = "run_finished"
    status: str  # "done" | "max_turns" | "error" | "interrupted"
    result: str
    turns: int
    usage: TokenUsage = field(default_factory=TokenUsage)
    cost_usd: float = 0.0


@dataclass(frozen=True)
class AnswerChecked(Event):
    """The final answer checked as structured output (`exec --output-schema` or `--json`):
    `value` is its JSON when valid; otherwise `errors` say where and why ("$.path: message"),
    and the answer is sent back unless the retries are spent."""

    type: ClassVar[str] = "answer_checked"
    attempt: int
    valid: bool
    value: Any = None
    errors: tuple[str, ...] = ()


@dataclass(frozen=True)
class HookRan(Event):
    """One hook command ran: `outcome` is "ok", "blocked" (exit 2), "allow", "deny" or "ask" (a
    pre_tool_use decision, exit 2 counting as "deny"), "failed" (another exit code), "timeout"
    or "error" (not started);
    `exit_code` is None when it did not exit by itself."""

    type: ClassVar[str] = "hook"
    event: str
    command: str
    source: str
    exit_code: int | None
    duration: float
    outcome: str
    message: str = ""
    tool_name: str = ""


@dataclass(frozen=True)
class SubagentEvent(Event):
    """An event of a sub-agent started by the parent's `task` call `parent_id`: the parent's
    stream, the session file and stream-json carry it nested, under that call."""

    type: ClassVar[str] = "subagent"
    parent_id: str
    agent: str
    event: Event

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "parent_id": self.parent_id, "agent": self.agent, "event": self.event.to_dict()}
