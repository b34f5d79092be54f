"""What `exec` (and `fix`) do with the final answer beyond printing it: structured output's
options and the file `--output-last-message` names."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from glmcode.events import AnswerChecked, Event, RunFinished

if TYPE_CHECKING:
    from glmcode.agent.structured import OutputSpec


class AnswerOptionError(ValueError):
    """An option about the answer cannot work as given (exit 2, before any request)."""


@dataclass(frozen=True)
class AnswerOptions:
    output_schema: str | None = None
    json_answer: bool = False
    schema_retries: int | None = None
    output_last_message: str | None = None


def output_spec(options: AnswerOptions, cwd: Path) -> OutputSpec | None:
    """The structured output asked for, with its schema loaded and checked; None for none."""
    if options.output_schema is not None and options.json_answer:
        raise AnswerOptionError("give --output-schema or --json, not both (a schema already asks for JSON)")
    if options.output_schema is None and not options.json_answer:
        if options.schema_retries is not None:
            raise AnswerOptionError("--schema-retries needs --output-schema or --json")
        return None
    from glmcode.agent.structured import DEFAULT_RETRIES, OutputSpec, SchemaError, load_schema

    retries = DEFAULT_RETRIES if options.schema_retries is None else options.schema_retries
    if options.output_schema is None:
        return OutputSpec(None, retries)
    if not options.output_schema.strip():
        raise AnswerOptionError("--output-schema is empty; give the JSON Schema file")
    try:
        return OutputSpec(load_schema(resolve(cwd, options.output_schema)), retries)
    except SchemaError as exc:
        raise AnswerOptionError(str(exc)) from None


def last_message_path(path: str | None, cwd: Path) -> Path | None:
    """Where to write the final answer, checked before the run so no work is lost to a typo."""
    if path is None:
        return None
    if not path.strip():
        raise AnswerOptionError("--output-last-message is empty; give a file to write the final answer to")
    target = resolve(cwd, path)
    if target.is_dir():
        raise AnswerOptionError(f"--output-last-message {target} is a folder; give a file")
    return target


def write_last_message(path: Path, text: str) -> str | None:
    """Writes the answer (atomically); the reason when it could not be written."""
    from glmcode.atomic import write_atomic

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, (text.strip("\n") + "\n" if text else "").encode("utf-8"))
    except OSError as exc:
        return f"cannot write --output-last-message {path}: {exc.strerror or exc}"
    return None


class FinalAnswer:
    """Follows a run's events for its final answer as printed: a structured answer as compact
    JSON, any other as the model wrote it; `valid` is False for a structured answer that failed."""

    def __init__(self) -> None:
        self.checked: AnswerChecked | None = None
        self.raw = ""
        self.finished = False

    def handle(self, event: Event) -> None:
        if isinstance(event, AnswerChecked):
            self.checked = event
        elif isinstance(event, RunFinished):
            self.raw, self.finished = event.result, True

    @property
    def valid(self) -> bool:
        return self.checked is None or self.checked.valid

    @property
    def text(self) -> str:
        if self.checked is not None and self.checked.valid:
            return json.dumps(self.checked.value, ensure_ascii=False)
        return self.raw


def resolve(cwd: Path, path: str) -> Path:
    """A path from the command line, relative to the folder glmcode works in (--cd)."""
    p = Path(path).expanduser()
    return p if p.is_absolute() else cwd / p
