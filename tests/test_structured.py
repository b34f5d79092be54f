"""agent/structured.py on its own: reading an answer as JSON, checking it, wording the errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from glmcode.agent.structured import (
    MAX_LISTED_ERRORS,
    AnswerCheck,
    OutputSpec,
    SchemaError,
    check_schema,
    load_schema,
    parse_answer,
    validate,
)
from glmcode.events import AnswerChecked, Error, MessageAdded


@pytest.mark.parametrize("text, value", [
    ('  {"a": 1}\n', {"a": 1}),
    ('```json\n{"a": [1, 2]}\n```', {"a": [1, 2]}),
    ("```\n[true]\n```", [True]),
    ('"just a string"', "just a string"),
])
def test_whitespace_and_one_fence_are_forgiven(text: str, value: object) -> None:
    assert parse_answer(text) == (value, [])


@pytest.mark.parametrize("text, error", [
    ("", "$: the answer is empty"),
    ("Here it is: {}", "$: the answer is not JSON (Expecting value at line 1 column 1)"),
    ('{"a": NaN}', "$: the answer is not JSON (NaN is not a JSON number)"),
    ('{"a": 1} {"b": 2}', "$: the answer is not JSON (Extra data at line 1 column 10)"),
    ("```python\n{}\n```", "$: the answer is not JSON (Expecting value at line 1 column 1)"),
])
def test_what_is_not_one_json_value_says_why(text: str, error: str) -> None:
    assert parse_answer(text) == (None, [error])


def test_errors_come_with_their_paths_in_path_order() -> None:
    schema = {"type": "object", "properties": {"items": {"type": "array", "items": {"type": "integer"}},
                                               "when": {"type": "string", "format": "date"}},
              "required": ["items"], "additionalProperties": False}
    errors = validate({"when": "tomorrow", "extra": 1, "items": [1, "two", 3.5]}, OutputSpec(schema))
    assert errors == [
        "$: Additional properties are not allowed ('extra' was unexpected)",
        "$.items[1]: 'two' is not of type 'integer'",
        "$.items[2]: 3.5 is not of type 'integer'",
        "$.when: 'tomorrow' is not a 'date'",
    ]


def test_the_schema_names_its_draft() -> None:
    # Draft 4 reads exclusiveMaximum as a flag; 2020-12, the default, as a number.
    draft4 = {"$schema": "http://json-schema.org/draft-04/schema#", "maximum": 5, "exclusiveMaximum": True}
    assert validate(5, OutputSpec(draft4)) == ["$: 5 is greater than or equal to the maximum of 5"]
    with pytest.raises(SchemaError, match=r"not a valid JSON Schema: \$.exclusiveMaximum: True is not of type 'number'"):
        check_schema({"maximum": 5, "exclusiveMaximum": True})


def test_without_a_schema_any_object_passes() -> None:
    assert validate({}, OutputSpec(None)) == []
    assert validate(None, OutputSpec(None)) == ["$: the answer is JSON null, not a JSON object"]
    assert validate("x", OutputSpec(None)) == ["$: the answer is a JSON string, not a JSON object"]


def test_a_schema_file_is_read_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"type": "object"}))
    assert load_schema(path) == {"type": "object"}
    path.write_text('"object"')
    with pytest.raises(SchemaError, match="s.json is not a valid JSON Schema: \\$: 'object' is not of type 'object', 'boolean'"):
        load_schema(path)
    path.write_bytes(b"\xff\xfe")
    with pytest.raises(SchemaError, match="cannot read the schema file"):
        load_schema(path)


class _Agent:
    def __init__(self) -> None:
        self.messages: list[dict] = [{"role": "system", "content": "s"}]
        self.request_options: dict = {}
        self.answer_check = None


def _drain(gen):
    events = []
    while True:
        try:
            events.append(next(gen))
        except StopIteration as stop:
            return events, stop.value


def test_a_long_list_of_errors_is_cut_for_the_model_and_retries_run_out() -> None:
    agent = _Agent()
    schema = {"type": "array", "items": {"type": "string"}}
    check = AnswerCheck(agent, OutputSpec(schema, retries=1))  # type: ignore[arg-type]
    assert agent.answer_check is check
    prompt = check.prompt("list them")
    assert prompt.startswith("list them\n\nAnswer format:") and '"type": "array"' in prompt
    events, ending = _drain(check(json.dumps(list(range(15)))))
    assert ending == "" and agent.request_options == {"response_format": {"type": "json_object"}}
    [checked] = [e for e in events if isinstance(e, AnswerChecked)]
    assert not checked.valid and len(checked.errors) == 15
    [added] = [e for e in events if isinstance(e, MessageAdded)]
    assert added.message is agent.messages[-1] and added.message["role"] == "user"
    text = added.message["content"]
    assert text.count("\n- $[") == MAX_LISTED_ERRORS and "- and 5 more errors" in text
    events, ending = _drain(check("[1]"))
    assert ending == "invalid_output"
    [error] = [e for e in events if isinstance(e, Error)]
    assert error.kind == "invalid_output" and "after 1 retry" in error.message
    assert error.hint == "$[0]: 1 is not of type 'string'"
    # A new run starts afresh: the count and GLM's JSON mode.
    check.prompt("again")
    assert check.attempt == 0 and agent.request_options == {}
    assert _drain(check('["a"]'))[1] == "done"
