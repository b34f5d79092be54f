"""Structured output: the final answer as one JSON value, checked, and sent back until it passes.

The prompt says what shape the answer must take. The run works with tools as usual; when the
model answers without calling one, the answer is parsed and checked (against a JSON Schema, or
as any JSON object). An answer that fails goes back to the model with every error's path and
message, and the requests from then on ask for `response_format` json_object, so the request
for the corrected answer is made in JSON mode while the earlier tool work is not constrained by
it. jsonschema is imported only when there is a schema to check.
"""

from __future__ import annotations

import json
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from glmcode.events import AnswerChecked, Error, Event, MessageAdded, Notice
from glmcode.text import count

if TYPE_CHECKING:
    from glmcode.agent.loop import Agent

JSON_OBJECT: Mapping[str, str] = {"type": "json_object"}
DEFAULT_RETRIES = 2
MAX_LISTED_ERRORS = 10
MAX_ERROR_CHARS = 300
_HERE = Path(__file__).parent


class SchemaError(ValueError):
    """The schema (or its file) cannot be used; the message says what is wrong and where."""


@dataclass(frozen=True)
class OutputSpec:
    """`schema`: the JSON Schema the answer must satisfy; None asks for any JSON object."""

    schema: Any = None
    retries: int = DEFAULT_RETRIES


def load_schema(path: Path) -> Any:
    """The schema in a JSON file, checked against its own metaschema."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SchemaError(f"cannot read the schema file {path}: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        schema = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SchemaError(f"{path} is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    return check_schema(schema, where=str(path))


def check_schema(schema: Any, where: str = "the schema") -> Any:
    """`schema` itself, once it is known to be a valid JSON Schema."""
    from jsonschema.exceptions import SchemaError as InvalidSchema

    try:
        _validator_class(schema).check_schema(schema)
    except InvalidSchema as exc:
        raise SchemaError(f"{where} is not a valid JSON Schema: {exc.json_path}: {_short(exc.message)}") from None
    return schema


def parse_answer(text: str) -> tuple[Any, list[str]]:
    """The answer's JSON value and no errors, or None and why it is not JSON. Surrounding
    whitespace and one enclosing code fence are forgiven: they are not part of the value."""
    body = _unfenced(text.strip())
    if not body:
        return None, ["$: the answer is empty"]
    try:
        return json.loads(body, parse_constant=_no_constant), []
    except (json.JSONDecodeError, ValueError) as exc:
        where = f" at line {exc.lineno} column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        return None, [f"$: the answer is not JSON ({reason}{where})"]


def validate(value: Any, spec: OutputSpec) -> list[str]:
    """"path: message" for each way `value` fails `spec`, in the order of their paths."""
    if spec.schema is None:
        return [] if isinstance(value, dict) else [f"$: the answer is {_json_type(value)}, not a JSON object"]
    cls = _validator_class(spec.schema)
    validator = cls(spec.schema, format_checker=cls.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(value), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    return [f"{e.json_path}: {_short(e.message)}" for e in errors]


class AnswerCheck:
    """The agent's `answer_check` for one spec: attach it, then start each run with
    `prompt(text)` so the model knows the format and the retries start afresh."""

    def __init__(self, agent: Agent, spec: OutputSpec) -> None:
        self.agent = agent
        self.spec = spec
        self.attempt = 0
        agent.answer_check = self

    def prompt(self, text: str) -> str:
        self.attempt = 0
        self.agent.request_options = {}
        schema = "" if self.spec.schema is None else "\n\nThe JSON Schema:\n" + json.dumps(self.spec.schema, ensure_ascii=False, indent=2)
        shape = "a JSON object" if self.spec.schema is None else "one JSON value valid against the JSON Schema below"
        return text.rstrip("\n") + _text("answer_format.md").format(shape=shape, schema=schema).rstrip("\n")

    def __call__(self, answer: str) -> Generator[Event, None, str]:
        self.attempt += 1
        value, errors = parse_answer(answer)
        if not errors:
            errors = validate(value, self.spec)
        yield AnswerChecked(self.attempt, not errors, None if errors else value, tuple(errors))
        if not errors:
            return "done"
        if self.attempt > self.spec.retries:
            yield Error(
                "invalid_output",
                f"the answer is still not {self._shape()} after {count(self.spec.retries, 'retry', 'retries')}",
                "\n".join(errors),
            )
            return "invalid_output"
        # GLM's JSON mode from here on: the model has shown it needs it.
        self.agent.request_options = {"response_format": dict(JSON_OBJECT)}
        message = {"role": "user", "content": self._correction(errors)}
        self.agent.messages.append(message)
        yield MessageAdded(message)
        yield Notice(f"The answer is not {self._shape()}; asked again (retry {self.attempt} of {self.spec.retries}).", "info")
        return ""

    def _shape(self) -> str:
        return "a JSON object" if self.spec.schema is None else "valid against the JSON Schema"

    def _correction(self, errors: list[str]) -> str:
        listed = [f"- {e}" for e in errors[:MAX_LISTED_ERRORS]]
        if len(errors) > MAX_LISTED_ERRORS:
            listed.append(f"- and {count(len(errors) - MAX_LISTED_ERRORS, 'more error')}")
        return _text("answer_retry.md").format(shape=self._shape(), errors="\n".join(listed)).rstrip("\n")


def _validator_class(schema: Any) -> Any:
    from jsonschema.validators import Draft202012Validator, validator_for

    return validator_for(schema, default=Draft202012Validator)


def _unfenced(text: str) -> str:
    if text.startswith("```") and text.endswith("```") and "\n" in text:
        first, _, rest = text.partition("\n")
        if first.strip("`").strip() in ("", "json"):
            return rest[: -3].strip()
    return text


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "a JSON array"
    if isinstance(value, str):
        return "a JSON string"
    if isinstance(value, bool) or value is None:
        return f"JSON {json.dumps(value)}"
    return "a JSON number"


def _short(message: str) -> str:
    return message if len(message) <= MAX_ERROR_CHARS else message[: MAX_ERROR_CHARS - 3] + "..."


def _text(name: str) -> str:
    return (_HERE / name).read_text(encoding="utf-8")
