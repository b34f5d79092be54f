"""What a run hands back to a program: its answer, structured output, cost and changes."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from glmcode.events import AnswerChecked, Error, Event, RunFinished, SessionStarted, TokenUsage, ToolCallFinished, ToolCallStarted


@dataclass(frozen=True)
class RunError:
    """Why a run ended in error: the same kinds as `exec -o json` (docs/exec.md)."""

    kind: str
    message: str
    hint: str = ""


@dataclass(frozen=True)
class Result:
    """One finished run.

    `status`: "done", "error", "max_turns", "invalid_output" (a structured answer that never
    passed its check) or "interrupted". `text` is the final answer as the model wrote it;
    `structured_output` its JSON once it passed the check (None otherwise, or without a schema).
    `files_changed` lists what glmcode's own file tools wrote, relative to the workspace, in
    the order first changed; what a shell command changed is not traced.
    """

    status: str
    text: str
    session_id: str
    turns: int = 0
    tool_calls: int = 0
    usage: TokenUsage = field(default_factory=TokenUsage)
    cost_usd: float = 0.0
    duration_s: float = 0.0
    structured_output: Any = None
    validation_errors: tuple[str, ...] = ()
    files_changed: tuple[str, ...] = ()
    error: RunError | None = None

    @property
    def ok(self) -> bool:
        return self.status == "done"


class ResultCollector:
    """Builds the Result from a run's events, as they pass."""

    def __init__(self) -> None:
        self._started = time.monotonic()
        self._session_id = ""
        self._tool_calls = 0
        self._files: dict[str, None] = {}  # ordered, without repeats
        self._checked: AnswerChecked | None = None
        self._error: RunError | None = None
        self.result: Result | None = None

    def handle(self, event: Event) -> None:
        if isinstance(event, SessionStarted):
            self._session_id = event.session_id
        elif isinstance(event, ToolCallStarted):
            self._tool_calls += 1
        elif isinstance(event, ToolCallFinished):
            for path in changed_paths(event):
                self._files.setdefault(path)
        elif isinstance(event, AnswerChecked):
            self._checked = event
        elif isinstance(event, Error):
            self._error = RunError(event.kind, event.message, event.hint)
        elif isinstance(event, RunFinished):
            checked = self._checked
            self.result = Result(
                status=event.status,
                text=event.result,
                session_id=self._session_id,
                turns=event.turns,
                tool_calls=self._tool_calls,
                usage=event.usage,
                cost_usd=round(event.cost_usd, 6),
                duration_s=round(time.monotonic() - self._started, 3),
                structured_output=checked.value if checked is not None and checked.valid else None,
                validation_errors=checked.errors if checked is not None else (),
                files_changed=tuple(self._files),
                error=self._error,
            )


def changed_paths(event: ToolCallFinished) -> list[str]:
    """The files a file tool's call changed, from what it reported (a call that changed
    nothing has no diff)."""
    data = event.data or {}
    if event.is_error or not event.diff:
        return []
    if isinstance(data.get("path"), str):
        return [data["path"]]
    paths: list[str] = []
    for key in ("added", "updated", "deleted", "moved"):
        for item in data.get(key) or ():
            paths += [p for p in (item if isinstance(item, list) else [item]) if isinstance(p, str)]
    return paths
