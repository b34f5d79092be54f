"""`glmcode.run` and `glmcode.stream`: the agent of `glmcode exec`, driven from Python.

Settings come from the same layers as on the command line (config files, environment), with
the arguments as flags on top. Nothing here touches a terminal: events go to the caller, and a
call that needs approval goes to the caller's `approve` function, or is refused without one.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

from glmcode.agent.tool_calls import ApprovalAnswer, ApprovalRequest
from glmcode.api.result import Result, ResultCollector
from glmcode.events import Event, Notice

if TYPE_CHECKING:
    from glmcode.agent.sessions_store import Replay
    from glmcode.agent.setup import Workspace
    from glmcode.agent.structured import OutputSpec
    from glmcode.config.settings import Settings

Approve = Callable[[ApprovalRequest], Union[bool, ApprovalAnswer]]
Schema = Union[Mapping[str, Any], bool, str, "os.PathLike[str]"]
DEFAULT_MODE = "auto-edit"  # as for `exec`: nobody may be there to answer
API_HINT = (
    "To allow it: pass approve= (a function that answers), a wider permission_mode, or an allow "
    "rule under [permissions] in your user config."
)


class SetupError(ValueError):
    """The run cannot start as asked (settings, API key, schema, session, arguments); no
    request was sent. The message says what to change."""


def run(
    prompt: str,
    *,
    cwd: str | os.PathLike[str] | None = None,
    model: str | None = None,
    permission_mode: str | None = None,
    output_schema: Schema | None = None,
    json_output: bool = False,
    schema_retries: int | None = None,
    on_event: Callable[[Event], None] | None = None,
    approve: Approve | None = None,
    max_turns: int | None = None,
    resume: str | None = None,
    settings: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> Result:
    """Runs the agent on `prompt` until it answers, and returns the Result. `on_event` sees
    every event as it happens (the objects `exec -o stream-json` prints with `to_dict()`).
    See `stream` for the other arguments. Ctrl-C ends the run cleanly with status
    "interrupted"."""
    from glmcode.agent.drive import drive

    events = stream(
        prompt, cwd=cwd, model=model, permission_mode=permission_mode, output_schema=output_schema,
        json_output=json_output, schema_retries=schema_retries, approve=approve, max_turns=max_turns,
        resume=resume, settings=settings, env=env,
    )
    with events:
        drive(events.generator, on_event or _ignore)
    assert events.result is not None, "a run always ends with its result"
    return events.result


def stream(
    prompt: str,
    *,
    cwd: str | os.PathLike[str] | None = None,
    model: str | None = None,
    permission_mode: str | None = None,
    output_schema: Schema | None = None,
    json_output: bool = False,
    schema_retries: int | None = None,
    approve: Approve | None = None,
    max_turns: int | None = None,
    resume: str | None = None,
    settings: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> RunStream:
    """The run's events as an iterator; its `result` is set once the last one has passed.

    `cwd`: the workspace (default: the current folder). `permission_mode`: read-only, ask,
    auto-edit (the default unless the config says otherwise) or full-auto. `output_schema`: a
    JSON Schema (a dict, or the path of a JSON file) the final answer must satisfy;
    `json_output`: the answer must be a JSON object; `schema_retries`: how often an answer
    that fails is sent back (default 2). `approve`: asked about each call the mode does not
    allow by itself, True to run it (or an ApprovalAnswer); without it such calls are refused.
    `resume`: continue that session (an id, its start, or a number from `glmcode sessions`).
    `settings`: any other setting by name (provider, base_url, api_key, thinking, max_tokens,
    add_dirs, ...). `env`: the environment to read keys and folders from (default os.environ).

    Raises SetupError before any request when the run cannot start.
    """
    env = os.environ if env is None else env
    if not isinstance(prompt, str) or not prompt.strip():
        raise SetupError("the prompt is empty")
    if max_turns is not None and max_turns < 1:
        raise SetupError("max_turns must be 1 or more")
    folder = _folder(cwd)
    flags = {**(settings or {}), "model": model, "permission_mode": permission_mode}
    loaded = _settings(folder, env, {k: v for k, v in flags.items() if v is not None})
    spec = _spec(output_schema, json_output, schema_retries, folder)
    earlier = _earlier(resume, loaded, env) if resume is not None else None
    from glmcode.agent.setup import open_workspace

    try:
        ws = open_workspace(
            loaded, folder, approver=None if approve is None else _approver(approve), max_turns=max_turns,
            headless_hint=API_HINT, env=env, resume=earlier, checkpoints=False,
        )
    except OSError as exc:  # the state folder (sessions) is unusable
        raise SetupError(f"cannot open the session file: {exc.strerror or exc} ({exc.filename})") from None
    if spec is not None:
        from glmcode.agent.structured import AnswerCheck

        prompt = AnswerCheck(ws.agent, spec).prompt(prompt)
    return RunStream(ws, prompt, [Notice(w) for w in loaded.warnings])


class RunStream(Iterator[Event]):
    """A run in progress. Iterate for its events; `result` is None until the run has ended.
    Leaving it early (`close()`, or the end of a `with` block) stops the run and closes its
    session file."""

    def __init__(self, ws: Workspace, prompt: str, warnings: Sequence[Notice]) -> None:
        self._ws = ws
        self._collector = ResultCollector()
        self.session_id = ws.started.session_id
        self.generator: Generator[Event, None, None] = self._events(prompt, warnings)

    @property
    def result(self) -> Result | None:
        return self._collector.result

    def __next__(self) -> Event:
        return next(self.generator)

    def __enter__(self) -> RunStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.generator.close()
        self._ws.close()

    def _events(self, prompt: str, warnings: Sequence[Notice]) -> Generator[Event, None, None]:
        try:
            for event in (self._ws.started, *warnings, *self._ws.notices):
                self._collector.handle(event)
                yield event
            run = self._ws.agent.run(prompt)
            advance: Callable[[], Event] = lambda: next(run)
            try:
                while True:
                    try:
                        event = advance()
                    except StopIteration:
                        return
                    self._collector.handle(event)
                    try:
                        yield event
                        advance = lambda: next(run)
                    except KeyboardInterrupt:
                        # As `drive` does for the command line: the agent closes the turn cleanly.
                        advance = lambda: run.throw(KeyboardInterrupt())
            finally:
                run.close()
        finally:
            self._ws.close()


def _ignore(event: Event) -> None:
    """No callback: the events only build the result."""


def _folder(cwd: str | os.PathLike[str] | None) -> Path:
    folder = Path(cwd).expanduser() if cwd is not None else Path.cwd()
    if not folder.is_dir():
        raise SetupError(f"{folder} is not a folder")
    return folder.resolve()


def _settings(cwd: Path, env: Mapping[str, str], flags: Mapping[str, Any]) -> Settings:
    from glmcode.config.errors import ConfigError
    from glmcode.config.layers import load_settings
    from glmcode.config.settings import require_api_key

    try:
        settings = load_settings(cwd, env, flags)
        if settings.sources.get("permission_mode") == "default":
            settings = replace(settings, permission_mode=DEFAULT_MODE)
        require_api_key(settings, env)
    except ConfigError as exc:
        raise SetupError(str(exc)) from None
    except ValueError as exc:  # a name that is no setting
        raise SetupError(str(exc)) from None
    return settings


def _spec(schema: Schema | None, json_output: bool, retries: int | None, cwd: Path) -> OutputSpec | None:
    if schema is None and not json_output:
        if retries is not None:
            raise SetupError("schema_retries needs output_schema or json_output")
        return None
    if schema is not None and json_output:
        raise SetupError("give output_schema or json_output, not both (a schema already asks for JSON)")
    if retries is not None and retries < 0:
        raise SetupError("schema_retries cannot be negative")
    from glmcode.agent.structured import DEFAULT_RETRIES, OutputSpec, SchemaError, check_schema, load_schema

    retries = DEFAULT_RETRIES if retries is None else retries
    try:
        if schema is None:
            return OutputSpec(None, retries)
        if isinstance(schema, (str, os.PathLike)):
            path = Path(schema).expanduser()
            return OutputSpec(load_schema(path if path.is_absolute() else cwd / path), retries)
        return OutputSpec(check_schema(dict(schema) if isinstance(schema, Mapping) else schema), retries)
    except SchemaError as exc:
        raise SetupError(str(exc)) from None


def _earlier(ref: str, settings: Settings, env: Mapping[str, str]) -> Replay:
    from glmcode.agent.sessions_store import SessionNotFound, find_session, list_sessions, replay
    from glmcode.paths import sessions_dir

    try:
        return replay(find_session(list_sessions(sessions_dir(env, settings.project_root)), ref).path)
    except SessionNotFound as exc:
        raise SetupError(str(exc)) from None


def _approver(approve: Approve) -> Callable[[ApprovalRequest], ApprovalAnswer]:
    """The agent's Approver from the caller's function: True or False, or a whole answer."""

    def ask(request: ApprovalRequest) -> ApprovalAnswer:
        answer = approve(request)
        if isinstance(answer, ApprovalAnswer):
            return answer
        return ApprovalAnswer("yes" if answer is True else "no")

    return ask
