"""`glmcode exec`: one prompt, no questions asked, output for scripts.

Formats: `text` prints the answer on stdout (streamed when stdout is a terminal, the final
answer alone when it is a pipe) and progress on stderr; `json` prints one object at the end;
`stream-json` prints every event as a JSON line the moment it happens, then the same result
object as `json`.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import IO, Any

from glmcode.events import (
    Error,
    Event,
    HookRan,
    ImagesDescribed,
    Notice,
    ReasoningDelta,
    Retrying,
    RunFinished,
    SubagentEvent,
    TextDelta,
    ToolCallFinished,
    ToolCallStarted,
    TurnFinished,
)
from glmcode.text import count
from glmcode.ui.answer import AnswerOptions, FinalAnswer
from glmcode.ui.described import described_text

EXIT_CODES = {"done": 0, "error": 1, "max_turns": 5, "invalid_output": 6, "interrupted": 130}
HEADLESS_HINT = (
    "To allow it: --full-auto, or an allow rule under [permissions] in your user config "
    "(or in .glmcode/config.toml once you have run `glmcode trust`)."
)


def exec_command(
    prompt: str,
    flags: dict[str, Any],
    *,
    cd: str | None,
    output_format: str,
    verbose: bool,
    max_turns: int | None,
    resume: str | None = None,
    answer: AnswerOptions | None = None,
    images: list[str] | None = None,
    tls: Callable[[], Any] | None = None,
) -> int:
    """`tls`: the TLS context, when the caller began making it early (llm/tls.py)."""
    from glmcode.agent.drive import drive
    from glmcode.agent.setup import open_workspace
    from glmcode.ui.answer import AnswerOptionError, last_message_path, output_spec, write_last_message
    from glmcode.ui.startup import StartupError, start

    err = sys.stderr
    try:
        run = start(flags, cd, resume=resume, default_mode="auto-edit")
    except StartupError as exc:
        err.write(f"glmcode: {exc}\n")
        return 2
    if prompt == "-":
        prompt = sys.stdin.read()
    if not prompt.strip():
        err.write("glmcode: the prompt is empty (pass it as an argument, or '-' to read standard input)\n")
        return 2
    settings, cwd, earlier = run.settings, run.cwd, run.resume
    answer = answer or AnswerOptions()
    try:
        spec, last_message = output_spec(answer, cwd), last_message_path(answer.output_last_message, cwd)
    except AnswerOptionError as exc:
        err.write(f"glmcode: {exc}\n")
        return 2
    if prompt.lstrip().startswith("/"):
        from glmcode.ui.custom_prompt import UnknownCommand, for_exec

        try:
            prompt, settings, problems = for_exec(prompt, settings, cwd)
        except UnknownCommand as exc:
            err.write(f"glmcode: {exc}\n")
            return 2
        for problem in problems:
            err.write(f"glmcode: {problem}\n")
    for warning in settings.warnings:
        err.write(f"glmcode: {warning}\n")
    attached = None
    if images:
        from glmcode.images.load import ImageError
        from glmcode.images.attach import attach

        try:
            attached = attach(images, settings)
        except ImageError as exc:
            err.write(f"glmcode: {exc}; nothing was sent\n")
            return 2
    try:
        ws = open_workspace(
            settings, cwd, approver=None, max_turns=max_turns, headless_hint=HEADLESS_HINT, resume=earlier, hooks=run.hooks,
            tls=tls,
        )
    except OSError as exc:
        # The state folder (sessions) is unusable: a file where a folder should be, no space.
        err.write(f"glmcode: cannot open the session file: {exc.strerror or exc} ({exc.filename})\n")
        return 1
    out = sys.stdout
    if output_format == "text":
        renderer: Renderer = TextRenderer(out, err, verbose=verbose, structured=spec is not None)
    else:
        renderer = JsonRenderer(out, ws.started.session_id, stream=output_format == "stream-json", structured=spec is not None)
        renderer.handle(ws.started)
    for notice in ws.notices:
        renderer.handle(notice)
    if spec is not None:
        from glmcode.agent.structured import AnswerCheck

        prompt = AnswerCheck(ws.agent, spec).prompt(prompt)
    from glmcode.signals import sigterm_as_interrupt

    try:
        with sigterm_as_interrupt():  # a run ended by SIGTERM closes like one ended by Ctrl-C
            drive(ws.agent.run(prompt) if attached is None else attached.run(ws.agent, prompt), renderer.handle)
    finally:
        ws.close()
    final = renderer.final
    if output_format != "text" and renderer.status == "invalid_output" and final.checked is not None:
        err.write("glmcode: the answer did not pass its check:\n" + "\n".join(final.checked.errors) + "\n")
    problem = write_last_message(last_message, final.text) if last_message and final.finished else None
    if problem:
        err.write(f"glmcode: {problem}\n")
        return 1
    return EXIT_CODES.get(renderer.status, 1)


class Renderer:
    status: str = "error"
    final: FinalAnswer

    def handle(self, event: Event) -> None:
        raise NotImplementedError


class TextRenderer(Renderer):
    """The answer on stdout; progress (reasoning, tool calls, retries, info notices) on stderr
    when stderr is a terminal or with --verbose; warnings and errors on stderr always."""

    def __init__(self, out: IO[str], err: IO[str], *, verbose: bool, structured: bool = False) -> None:
        self.out, self.err = out, err
        self.final = FinalAnswer()
        # A structured answer is printed once it has passed its check, never as it streams.
        self.stream_answer = out.isatty() and not structured
        self.progress = verbose or err.isatty()
        self.dim = err.isatty()
        self._out_open = False  # the last thing written to stdout did not end a line
        self._err_open = False  # likewise for stderr
        self._in_reasoning = False

    def handle(self, event: Event) -> None:
        self.final.handle(event)
        if isinstance(event, TextDelta):
            self._end_reasoning()
            if self.stream_answer:
                self.out.write(event.text)
                self.out.flush()
                self._out_open = not event.text.endswith("\n")
            elif self.progress:
                self._stream_err(event.text)
        elif isinstance(event, ReasoningDelta):
            if self.progress:
                if not self._in_reasoning:
                    self._in_reasoning = True
                    if self.dim:
                        self.err.write("\x1b[2m")
                self._stream_err(event.text)
        elif isinstance(event, TurnFinished):
            self._end_reasoning()
            self._end_out_line()
            if self._err_open:
                self._say("")
        elif isinstance(event, ToolCallStarted):
            if self.progress:
                self._say(f"-> {event.name} {_summary(event.arguments)}")
        elif isinstance(event, SubagentEvent):
            if self.progress and isinstance(event.event, ToolCallStarted):
                self._say(f"   [{event.agent}] -> {event.event.name} {_summary(event.event.arguments)}")
        elif isinstance(event, ToolCallFinished):
            if self.progress:
                first = event.output.strip().splitlines()[0] if event.output.strip() else ""
                mark = "error" if event.is_error else "ok"
                images = f" ({count(event.images, 'image')} returned)" if event.images else ""
                self._say(f"   {event.name} {mark}{images}: {first[:200]}")
        elif isinstance(event, Retrying):
            if self.progress:
                self._end_reasoning()
                self._end_out_line()
                self._say(f"glmcode: {event.reason}; retrying in {event.wait:.1f}s "
                          f"(attempt {event.attempt} of {event.max_attempts})")
        elif isinstance(event, HookRan):
            if self.progress:
                self._say(f"   hook {event.event} {event.outcome} ({event.duration:.2f}s): {event.command}")
        elif isinstance(event, Notice):
            # A warning (a refused call, a server that failed) is for every run; an "info" note
            # (waiting for a server, a compaction) is progress like the rest.
            if event.level != "info" or self.progress:
                self._end_out_line()
                self._say(f"glmcode: {event.message}")
        elif isinstance(event, ImagesDescribed):
            if self.progress:
                self._say(f"glmcode: {described_text(event)}")
        elif isinstance(event, Error):
            self._end_reasoning()
            self._end_out_line()
            self._say(f"glmcode: error: {event.message}" + (f"\n{event.hint}" if event.hint else ""))
        elif isinstance(event, RunFinished):
            self.status = event.status
            self._end_reasoning()
            self._end_out_line()
            if not self.stream_answer and event.result and self.final.valid:
                self.out.write(self.final.text.strip("\n") + "\n")
                self.out.flush()
            elif not self.final.valid and event.result:
                self._say("glmcode: the last answer, which did not pass:\n" + event.result.strip("\n"))
            if event.status == "max_turns":
                self._say(f"glmcode: stopped after {event.turns} turns (--max-turns)")
            elif event.status == "interrupted":
                self._say("glmcode: interrupted")

    def _stream_err(self, text: str) -> None:
        self.err.write(text)
        self.err.flush()
        self._err_open = not text.endswith("\n")

    def _end_out_line(self) -> None:
        if self._out_open:
            self.out.write("\n")
            self.out.flush()
            self._out_open = False

    def _end_reasoning(self) -> None:
        if self._in_reasoning:
            self._in_reasoning = False
            if self.dim:
                self.err.write("\x1b[0m")
            if self._err_open:
                self._say("")

    def _say(self, text: str) -> None:
        """One whole line on stderr, on a line of its own."""
        if self._err_open and text:
            self.err.write("\n")
        self.err.write(text + "\n")
        self.err.flush()
        self._err_open = False


class JsonRenderer(Renderer):
    def __init__(self, out: IO[str], session_id: str, *, stream: bool, structured: bool = False) -> None:
        self.out = out
        self.structured = structured
        self.final = FinalAnswer()
        self.session_id = session_id
        self.stream = stream
        self.started = time.monotonic()
        self.error: dict[str, str] | None = None
        self.tool_calls = 0

    def handle(self, event: Event) -> None:
        self.final.handle(event)
        if self.stream:
            self._emit(event.to_dict())
        if isinstance(event, Error):
            self.error = {"kind": event.kind, "message": event.message, "hint": event.hint}
        elif isinstance(event, ToolCallStarted):
            self.tool_calls += 1
        elif isinstance(event, RunFinished):
            self.status = event.status
            self._emit(
                {
                    "type": "result",
                    "status": event.status,
                    "result": event.result,
                    "session_id": self.session_id,
                    "turns": event.turns,
                    "tool_calls": self.tool_calls,
                    "usage": {
                        "prompt_tokens": event.usage.prompt_tokens,
                        "completion_tokens": event.usage.completion_tokens,
                        "cached_tokens": event.usage.cached_tokens,
                    },
                    "cost_usd": round(event.cost_usd, 6),
                    "duration_s": round(time.monotonic() - self.started, 3),
                    "error": self.error,
                    "exit_code": EXIT_CODES.get(event.status, 1),
                    **(self._structured() if self.structured else {}),
                }
            )

    def _structured(self) -> dict[str, Any]:
        checked = self.final.checked
        return {
            "structured_output": checked.value if checked is not None and checked.valid else None,
            "validation_errors": list(checked.errors) if checked is not None else [],
        }

    def _emit(self, record: dict[str, Any]) -> None:
        self.out.write(json.dumps(record, ensure_ascii=False) + "\n")
        self.out.flush()


def _summary(arguments: Any) -> str:
    """The one argument that says what a call is about; for a tool with no such argument (an
    MCP server's), all of them, compactly."""
    if isinstance(arguments, dict):
        for key in ("command", "path", "pattern", "url", "query"):
            if key in arguments and arguments[key]:
                return str(arguments[key]).splitlines()[0][:120]
        if not arguments:
            return ""
        return json.dumps(arguments, ensure_ascii=False, separators=(",", ":"))[:120]
    return str(arguments)[:120]
