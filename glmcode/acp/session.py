"""One editor session: a glmcode workspace whose prompts run on a thread of their own, their
events streamed to the editor as `session/update` notifications in the order they happen."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from acp import RequestError, schema

from glmcode.acp import updates
from glmcode.acp.bridge import Bridge, Cancelled
from glmcode.agent.drive import drive
from glmcode.agent.setup import Workspace
from glmcode.events import (
    Error,
    Event,
    Notice,
    ReasoningDelta,
    Retrying,
    RunFinished,
    TextDelta,
    ToolCallFinished,
    ToolCallStarted,
    TurnFinished,
)

if TYPE_CHECKING:
    from glmcode.images.load import Image

log = logging.getLogger("glmcode.acp")

# How a run's end reads as an ACP stop reason; errors are told apart by kind below.
STOP_REASONS = {"done": "end_turn", "max_turns": "max_turn_requests", "interrupted": "cancelled"}
ERROR_STOP_REASONS = {"content_filter": "refusal", "length": "max_tokens"}


@dataclass
class RunOutcome:
    finished: RunFinished | None = None
    error: Error | None = None
    finish_reason: str = ""


class EditorSession:
    def __init__(self, ws: Workspace, conn: Any, bridge: Bridge) -> None:
        self.ws = ws
        self.conn = conn
        self.bridge = bridge
        self.id = ws.session.session_id
        self._running: asyncio.Future[RunOutcome] | None = None
        self._gone = False
        self._edits: dict[str, dict[Path, str | None]] = {}
        self._shell_call = ""  # the run_shell call in progress, whose terminal the editor shows

    @property
    def ctx(self) -> Any:
        return self.ws.agent.runner.ctx

    async def send(self, update: Any) -> None:
        await self.conn.session_update(session_id=self.id, update=update)

    async def prompt(self, text: str, images: Sequence[Image] = ()) -> str:
        """Runs one prompt to its end; the stop reason, or a RequestError for a failed run."""
        if self._running is not None:
            raise RequestError.invalid_request({"details": "a prompt is already running in this session"})
        loop = asyncio.get_running_loop()
        running: asyncio.Future[RunOutcome] = loop.create_future()
        # The session is busy until the run has ended, even if this request is dropped.
        running.add_done_callback(self._ended)
        self._running = running
        self.bridge.reset()
        self.ctx.cancel.clear()
        threading.Thread(target=self._work, args=(text, images, loop, running), daemon=True).start()
        return stop_reason(await asyncio.shield(running))

    def _ended(self, running: asyncio.Future[RunOutcome]) -> None:
        if self._running is running:
            self._running = None

    def cancel(self) -> None:
        """Stops the prompt in progress as Ctrl-C does: at the next event, or at once when it
        waits on the editor or on a command (which is killed with everything it started)."""
        if self._running is None:
            return
        self.bridge.cancel()
        self.ctx.cancel.set()

    async def close(self) -> None:
        """Cancels what runs, waits for it to end, and closes the session file."""
        self._gone = True
        self.cancel()
        running = self._running
        if running is not None:
            try:
                await asyncio.shield(running)
            except RequestError:
                pass
        self.ws.close()  # the session file, and the MCP servers

    def _run(self, text: str, images: Sequence[Image]) -> Iterator[Event]:
        if not images:
            return self.ws.agent.run(text)
        from glmcode.images.attach import Attached
        from glmcode.images.route import route_for

        settings = self.ws.settings
        return Attached(tuple(images), route_for(settings.model, settings.vision_model, settings.image_mode)).run(self.ws.agent, text)

    def _work(
        self, text: str, images: Sequence[Image], loop: asyncio.AbstractEventLoop, done: asyncio.Future[RunOutcome]
    ) -> None:
        outcome = RunOutcome()
        failure: BaseException | None = None
        try:
            drive(self._run(text, images), lambda event: self._handle(event, outcome))
        except BaseException as exc:  # handed to the prompt's caller, whatever it is
            log.exception("the run failed")
            failure = exc
        try:
            loop.call_soon_threadsafe(_settle, done, outcome, failure)
        except RuntimeError:
            pass  # the loop is closed: glmcode is shutting down and nobody waits for the answer

    def _handle(self, event: Event, outcome: RunOutcome) -> None:
        if isinstance(event, RunFinished):
            outcome.finished = event
        elif isinstance(event, Error):
            outcome.error = event
        elif isinstance(event, TurnFinished):
            outcome.finish_reason = event.finish_reason
        for update in self._updates(event):
            self._send(update)
        if self.bridge.cancelled.is_set() and not self.bridge.interrupted:
            raise self.bridge.interrupt()  # drive() hands it to the agent, which closes the turn

    def _send(self, update: Any) -> None:
        if self._gone:
            return
        try:
            self.bridge.call(lambda: self.send(update), cancellable=False)
        except Cancelled:
            self._gone = True  # the editor went away; the run ends as if cancelled
            self.bridge.cancel()

    def _updates(self, event: Event) -> list[Any]:
        if isinstance(event, TextDelta):
            return [updates.message_chunk(event.text)]
        if isinstance(event, ReasoningDelta):
            return [updates.thought_chunk(event.text)]
        if isinstance(event, ToolCallStarted):
            tool = self.ws.agent.runner.registry.get(event.name)
            kind = tool.kind if tool is not None else None
            if kind == "edit":
                self._edits[event.id] = updates.edit_targets(event.name, event.arguments, self.ctx)
            elif kind == "shell":
                self._shell_call = event.id
            return [updates.started(event, kind, self.ctx)]
        if isinstance(event, ToolCallFinished):
            before = self._edits.pop(event.id, {})
            out: list[Any] = [updates.finished(event, before, self.ctx)]
            plan = updates.plan(event.data) if event.name == "todo_write" and not event.is_error else None
            return out + ([plan] if plan is not None else [])
        if isinstance(event, Retrying):
            return [updates.thought_chunk(f"\n\n(glmcode: {event.reason}; retrying)\n\n")]
        if isinstance(event, Notice):
            return [updates.message_chunk(f"\n\n> glmcode: {event.message}\n\n")]
        return []

    def tell(self, text: str) -> None:
        """A line for the user from the agent's thread (what an approval saved, say)."""
        self._send(updates.message_chunk(f"\n\n> glmcode: {text}\n\n"))

    def show_terminal(self, terminal_id: str) -> None:
        """Embeds the editor's terminal in the shell call that runs in it."""
        terminal = schema.TerminalToolCallContent(type="terminal", terminal_id=terminal_id)
        self._send(schema.ToolCallProgress(session_update="tool_call_update", tool_call_id=self._shell_call, content=[terminal]))

    def in_progress(self, call_id: str) -> None:
        self._send(schema.ToolCallProgress(session_update="tool_call_update", tool_call_id=call_id, status="in_progress"))


def stop_reason(outcome: RunOutcome) -> str:
    finished = outcome.finished
    if finished is None:
        raise RequestError.internal_error({"details": "the run ended without finishing"})
    if finished.status == "error":
        error = outcome.error
        kind = error.kind if error is not None else "api"
        if kind in ERROR_STOP_REASONS:
            return ERROR_STOP_REASONS[kind]
        message = error.message if error is not None else "the run failed"
        if error is not None and error.hint:
            message = f"{message}. {error.hint}"
        raise RequestError(-32603, message, {"kind": kind})
    if finished.status == "done" and outcome.finish_reason == "length":
        return "max_tokens"
    return STOP_REASONS.get(finished.status, "end_turn")


def _settle(done: asyncio.Future[RunOutcome], outcome: RunOutcome, failure: BaseException | None) -> None:
    if done.done():
        return
    if failure is not None:
        done.set_exception(RequestError.internal_error({"details": f"{type(failure).__name__}: {failure}"}))
    else:
        done.set_result(outcome)
