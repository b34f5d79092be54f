"""What the hooks of each event decide, from how their commands exit and what they print.

Exit 0 goes on (a session_start or user_prompt_submit hook's stdout becomes context for the
model; a pre_tool_use hook may print a JSON decision). Exit 2 blocks where blocking means
something: the prompt, the tool call, or (after a call) it hands its stderr to the model. Any
other ending is a warning and the session goes on. Every run is a HookRan event; the ones that
block or fail also bring a Notice, so every frontend shows them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from glmcode.events import Error, Event, HookRan, Notice, RunFinished
from glmcode.hooks.config import TOOL_EVENTS, HookConfig, HookSpec
from glmcode.hooks.process import Finished, run_hook
from glmcode.llm.errors import redact

DECISIONS = ("allow", "deny", "ask")
MAX_SHOWN = 2000  # characters of a hook's message kept in its event


@dataclass(frozen=True)
class PromptVerdict:
    blocked: str | None = None  # why, when a hook stopped the prompt
    context: tuple[str, ...] = ()  # what the hooks printed, for the model


@dataclass(frozen=True)
class ToolVerdict:
    decision: str | None = None  # "allow", "deny", "ask"; None: the hooks had no say
    reason: str = ""


@dataclass
class Hooks:
    config: HookConfig
    cwd: Path
    project_root: Path
    session_id: str
    resumed: bool = False
    env: Mapping[str, str] = field(default_factory=dict)
    secret: str = field(default="", repr=False)  # the API key, never shown to a hook
    _started: bool = False

    def watches_tool(self, tool: str) -> bool:
        return any(self.config.for_event(event, tool) for event in TOOL_EVENTS)

    def restart(self, session_id: str, *, resumed: bool) -> None:
        """Another session in the same process (`/resume`): session_start runs again."""
        self.session_id, self.resumed, self._started = session_id, resumed, False

    def around_run(self, prompt: str, run: Callable[[str], Iterator[Event]]) -> Iterator[Event]:
        """`run` of the prompt with its hooks: the prompt's before anything is sent (they may stop
        it, or add context to it), the stop hooks once it ends, before its RunFinished."""
        try:
            verdict = yield from self.prompt_submit(prompt)
        except KeyboardInterrupt:
            yield RunFinished("interrupted", "", 0)
            return
        if verdict.blocked is not None:
            yield Error("hook", f"A user_prompt_submit hook stopped the prompt: {verdict.blocked}", "Nothing was sent to the model.")
            yield RunFinished("error", "", 0)
            return
        inner = run("\n\n".join([prompt, *verdict.context]))
        advance: Callable[[], Event] = lambda: next(inner)
        while True:
            try:
                event = advance()
            except StopIteration:
                return
            if isinstance(event, RunFinished):
                try:
                    yield from self.stop(event.status, event.result)
                except KeyboardInterrupt:
                    pass  # the run is over either way; it still ends as it ended
            try:
                yield event
                advance = lambda: next(inner)
            except KeyboardInterrupt:
                # Passed on, so the run in progress closes its turn as it would without hooks.
                advance = lambda: inner.throw(KeyboardInterrupt())

    def prompt_submit(self, prompt: str) -> Generator[Event, None, PromptVerdict]:
        """session_start's hooks first, before the session's first prompt, then the prompt's."""
        context: list[str] = []
        if not self._started:
            self._started = True
            source = "resume" if self.resumed else "startup"
            for spec, done in (yield from self._each("session_start", {"source": source})):
                if done.exit_code == 0 and done.stdout.strip():
                    context.append(done.stdout.strip())
        for spec in self.config.for_event("user_prompt_submit"):
            done = self._call(spec, {"prompt": prompt})
            if done.exit_code == 2:
                reason = done.stderr.strip() or "(the hook gave no reason)"
                yield self._event(spec, done, "blocked", reason)
                return PromptVerdict(blocked=reason)
            yield from self._report(spec, done)
            if done.exit_code == 0 and done.stdout.strip():
                context.append(done.stdout.strip())
        return PromptVerdict(context=tuple(context))

    def pre_tool_use(self, tool: str, args: Mapping[str, Any]) -> Generator[Event, None, ToolVerdict]:
        """The strongest answer of the call's hooks: deny over ask over allow."""
        verdict = ToolVerdict()
        for spec in self.config.for_event("pre_tool_use", tool):
            done = self._call(spec, {"tool_name": tool, "tool_input": dict(args)})
            if done.exit_code == 2:
                reason = done.stderr.strip() or "(the hook gave no reason)"
                yield self._event(spec, done, "deny", reason, tool)
                yield Notice(f"A pre_tool_use hook ({spec.command}) blocked {tool}: {_short(reason)}")
                return ToolVerdict("deny", reason)
            if done.exit_code != 0:
                yield from self._report(spec, done, tool)
                continue
            decided = _decision(done.stdout)
            if isinstance(decided, str):
                yield self._event(spec, done, "failed", decided, tool)
                yield Notice(f"Hook pre_tool_use ({spec.command}) {decided}; its answer was not used.")
                continue
            if decided is None:
                yield self._event(spec, done, "ok", "", tool)
                continue
            yield self._event(spec, done, decided.decision, decided.reason, tool)
            if decided.decision == "deny":
                yield Notice(f"A pre_tool_use hook ({spec.command}) denied {tool}: {_short(decided.reason)}")
                return decided
            if verdict.decision != "ask":
                verdict = decided
        return verdict

    def post_tool_use(self, tool: str, args: Mapping[str, Any], output: str, is_error: bool) -> Generator[Event, None, str]:
        """What the hooks that exited 2 said, for the model to read with the call's result."""
        feedback: list[str] = []
        payload = {"tool_name": tool, "tool_input": dict(args), "tool_output": output, "is_error": is_error}
        for spec in self.config.for_event("post_tool_use", tool):
            done = self._call(spec, payload)
            if done.exit_code == 2:
                said = done.stderr.strip() or "(the hook gave no message)"
                yield self._event(spec, done, "blocked", said, tool)
                feedback.append(f"A post_tool_use hook ({spec.command}) says:\n{said}")
                continue
            yield from self._report(spec, done, tool)
        return "\n\n".join(feedback)

    def stop(self, status: str, result: str) -> Iterator[Event]:
        yield from self._each("stop", {"status": status, "result": result})

    def notification(self, message: str, tool: str = "") -> Iterator[Event]:
        yield from self._each("notification", {"message": message, "tool_name": tool}, tool)

    def _each(self, event: str, extra: dict[str, Any], tool: str = "") -> Generator[Event, None, list[tuple[HookSpec, Finished]]]:
        """Runs every hook of an event that cannot block; each ends as an event, and the
        failures as warnings."""
        out = []
        for spec in self.config.for_event(event):
            done = self._call(spec, extra)
            yield from self._report(spec, done, tool)
            out.append((spec, done))
        return out

    def _call(self, spec: HookSpec, extra: Mapping[str, Any]) -> Finished:
        payload = {"event": spec.event, "session_id": self.session_id, "cwd": str(self.cwd), **extra}
        env = {
            **self.env,
            "GLMCODE_PROJECT_DIR": str(self.project_root),
            "GLMCODE_SESSION_ID": self.session_id,
            "GLMCODE_HOOK_EVENT": spec.event,
        }
        # A command or a file's text may hold the key (the model can write it anywhere).
        stdin = redact(json.dumps(payload, ensure_ascii=False), self.secret)
        return run_hook(spec.command, stdin, self.cwd, spec.timeout_s, env)

    def _report(self, spec: HookSpec, done: Finished, tool: str = "") -> Iterator[Event]:
        if done.exit_code == 0:
            yield self._event(spec, done, "ok", "", tool)
            return
        if done.timed_out:
            why = f"took longer than {spec.timeout_s:g}s and was stopped"
            outcome = "timeout"
        elif done.exit_code is None:
            why, outcome = done.stderr, "error"
        else:
            why, outcome = f"exited with code {done.exit_code}", "failed"
        said = done.stderr.strip() if done.exit_code is not None else ""
        yield self._event(spec, done, outcome, f"{why}: {said}" if said else why, tool)
        detail = f": {_short(said)}" if said else ""
        yield Notice(f"Hook {spec.event} ({spec.command}) {why}{detail}; glmcode went on.")

    def _event(self, spec: HookSpec, done: Finished, outcome: str, message: str, tool: str = "") -> HookRan:
        return HookRan(
            spec.event, spec.command, spec.source, done.exit_code, round(done.duration, 4), outcome,
            message[:MAX_SHOWN], tool,
        )


def _decision(stdout: str) -> ToolVerdict | str | None:
    """A JSON decision, None when the hook printed none, or what is wrong with it."""
    text = stdout.strip()
    if not text.startswith("{"):
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return f"printed JSON that does not parse ({exc.msg})"
    decision = data.get("decision") if isinstance(data, dict) else None
    if decision is None:
        return None
    if decision not in DECISIONS:
        return f"answered decision {decision!r}; expected one of {', '.join(DECISIONS)}"
    reason = data.get("reason", "")
    return ToolVerdict(decision, reason if isinstance(reason, str) else json.dumps(reason))


def _short(text: str) -> str:
    """A few lines of a hook's stderr for a one-line notice: the end of a longer one, where a
    traceback says what went wrong."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    shown = " ".join(lines) if len(lines) <= 3 else "… " + " ".join(lines[-2:])
    return shown if len(shown) <= 300 else shown[:299] + "…"
