"""Structured output end to end: `exec --output-schema`, `--json`, `--output-last-message`,
the real process and client against the fake GLM over HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_glmcode

KEY = "test-key-0a1b2c3d4e5f"
SCHEMA = {
    "type": "object",
    "required": ["answer", "confidence"],
    "properties": {"answer": {"type": "string"}, "confidence": {"type": "number"}},
}
JSON_MODE = {"type": "json_object"}


def _env(fake) -> dict[str, str]:
    return {"ZAI_API_KEY": KEY, "GLMCODE_BASE_URL": fake.base_url}


@pytest.fixture
def schema(tmp_path: Path) -> Path:
    path = tmp_path / "schema.json"
    path.write_text(json.dumps(SCHEMA))
    return path


def test_prose_then_valid_json_prints_exactly_the_json(fake_glm, tmp_path: Path, schema: Path) -> None:
    fake = fake_glm([{"content": "The answer is 4, I am quite sure."},
                     {"content": '{"answer": "4", "confidence": 0.95}'}])
    proc = run_glmcode(["exec", "--output-schema", "schema.json", "what is 2+2?"], tmp_path, _env(fake))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == '{"answer": "4", "confidence": 0.95}\n'
    first, retry = (r.body for r in fake.requests)
    # The prompt says what shape the answer takes, schema included; tools are there as always.
    prompt = first["messages"][-1]["content"]
    assert prompt.startswith("what is 2+2?") and '"confidence"' in prompt and "JSON Schema" in prompt
    assert "response_format" not in first and first["tools"]
    # The retry carries the errors and asks for GLM's JSON mode, and only appends.
    assert retry["response_format"] == JSON_MODE
    assert retry["messages"][: len(first["messages"])] == first["messages"]
    correction = retry["messages"][-1]
    assert correction["role"] == "user"
    assert "$: the answer is not JSON" in correction["content"]
    assert retry["tools"] == first["tools"]


def test_an_answer_valid_at_once_needs_one_request(fake_glm, tmp_path: Path, schema: Path) -> None:
    fake = fake_glm([{"content": '```json\n{"answer": "yes",\n "confidence": 1}\n```'}])
    proc = run_glmcode(["exec", "-o", "json", "--output-schema", str(schema), "sure?"], tmp_path, _env(fake))
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["structured_output"] == {"answer": "yes", "confidence": 1}
    assert out["validation_errors"] == [] and out["status"] == "done"
    assert out["result"].startswith("```json")  # the raw answer, as the model wrote it
    assert len(fake.requests) == 1


def test_the_retry_lists_each_error_with_its_path(fake_glm, tmp_path: Path, schema: Path) -> None:
    fake = fake_glm([{"content": '{"answer": 4, "confidence": "high"}'},
                     {"content": '{"answer": "4", "confidence": 0.9}'}])
    proc = run_glmcode(["exec", "-o", "stream-json", "--output-schema", "schema.json", "2+2?"], tmp_path, _env(fake))
    assert proc.returncode == 0, proc.stderr
    correction = fake.requests[1].body["messages"][-1]["content"]
    assert "$.answer: 4 is not of type 'string'" in correction
    assert "$.confidence: 'high' is not of type 'number'" in correction
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    checks = [r for r in records if r["type"] == "answer_checked"]
    assert [c["valid"] for c in checks] == [False, True]
    assert checks[0]["errors"] == ["$.answer: 4 is not of type 'string'", "$.confidence: 'high' is not of type 'number'"]
    assert records[-1]["type"] == "result"
    assert records[-1]["structured_output"] == {"answer": "4", "confidence": 0.9}


def test_still_invalid_after_the_retries_exits_6(fake_glm, tmp_path: Path, schema: Path) -> None:
    fake = fake_glm([{"content": "four"}, {"content": '{"answer": "4"}'}])
    args = ["exec", "-o", "json", "--output-schema", "schema.json", "--schema-retries", "1", "2+2?"]
    proc = run_glmcode(args, tmp_path, _env(fake))
    assert proc.returncode == 6, proc.stderr
    assert len(fake.requests) == 2
    out = json.loads(proc.stdout)
    assert out["status"] == "invalid_output" and out["exit_code"] == 6
    assert out["result"] == '{"answer": "4"}' and out["structured_output"] is None
    assert out["validation_errors"] == ["$: 'confidence' is a required property"]
    assert out["error"]["kind"] == "invalid_output"
    assert "$: 'confidence' is a required property" in proc.stderr


def test_text_output_keeps_an_invalid_answer_off_stdout(fake_glm, tmp_path: Path, schema: Path) -> None:
    fake = fake_glm([{"content": "four"}, {"content": "still four"}, {"content": "4!"}])
    proc = run_glmcode(["exec", "--output-schema", "schema.json", "2+2?"], tmp_path, _env(fake))
    assert proc.returncode == 6
    assert proc.stdout == ""
    assert "not valid against the JSON Schema after 2 retries" in proc.stderr
    assert "$: the answer is not JSON" in proc.stderr and "4!" in proc.stderr
    assert len(fake.requests) == 3  # the first answer and the default two retries


@pytest.mark.parametrize("content, message", [
    ('{"type": "object", "required": "answer"}', "is not a valid JSON Schema: $.required: 'answer' is not of type 'array'"),
    ("{not json", "is not JSON: Expecting property name enclosed in double quotes at line 1 column 2"),
])
def test_a_bad_schema_file_exits_2_before_any_request(fake_glm, tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "schema.json").write_text(content)
    fake = fake_glm([{"content": "{}"}])
    proc = run_glmcode(["exec", "--output-schema", "schema.json", "hi"], tmp_path, _env(fake))
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert fake.requests == []


def test_a_missing_schema_file_exits_2(fake_glm, tmp_path: Path) -> None:
    fake = fake_glm([{"content": "{}"}])
    proc = run_glmcode(["exec", "--output-schema", "nowhere.json", "hi"], tmp_path, _env(fake))
    assert proc.returncode == 2 and "cannot read the schema file" in proc.stderr and "nowhere.json" in proc.stderr
    assert fake.requests == []


@pytest.mark.parametrize("args, message", [
    (["--json", "--output-schema", "s.json"], "not both"),
    (["--schema-retries", "3"], "--schema-retries needs --output-schema or --json"),
    (["--output-last-message", "."], "is a folder"),
])
def test_options_that_cannot_work_exit_2(fake_glm, tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "s.json").write_text("{}")
    fake = fake_glm([{"content": "{}"}])
    proc = run_glmcode(["exec", *args, "hi"], tmp_path, _env(fake))
    assert proc.returncode == 2 and message in proc.stderr
    assert fake.requests == []


def test_json_asks_for_any_object(fake_glm, tmp_path: Path) -> None:
    fake = fake_glm([{"content": "[1, 2]"}, {"content": '{"risky": ["a.py"]}'}])
    proc = run_glmcode(["exec", "--json", "list the risky changes"], tmp_path, _env(fake))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == '{"risky": ["a.py"]}\n'
    assert "a JSON object" in fake.requests[0].body["messages"][-1]["content"]
    retry = fake.requests[1].body
    assert retry["response_format"] == JSON_MODE
    assert "$: the answer is a JSON array, not a JSON object" in retry["messages"][-1]["content"]


def test_tools_work_before_the_structured_answer(fake_glm, tmp_path: Path, schema: Path) -> None:
    (tmp_path / "notes.txt").write_text("the answer is 42\n")
    fake = fake_glm([
        {"tool_calls": [{"name": "read_file", "arguments": {"path": "notes.txt"}}]},
        {"content": '{"answer": "42", "confidence": 0.8}'},
    ])
    proc = run_glmcode(["exec", "--output-schema", "schema.json", "read notes.txt"], tmp_path, _env(fake))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == '{"answer": "42", "confidence": 0.8}\n'
    assert fake.requests[1].body["messages"][-1]["role"] == "tool"


def test_output_last_message_writes_the_final_answer(fake_glm, tmp_path: Path) -> None:
    fake = fake_glm([{"content": "\nAll good.\n"}])
    proc = run_glmcode(["exec", "-o", "json", "--output-last-message", "out/last.txt", "check"], tmp_path, _env(fake))
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "out" / "last.txt").read_text() == "All good.\n"
    assert json.loads(proc.stdout)["result"] == "\nAll good.\n"


def test_output_last_message_holds_the_json_of_a_structured_answer(fake_glm, tmp_path: Path, schema: Path) -> None:
    fake = fake_glm([{"content": '{ "answer" : "x", "confidence" : 0 }'}])
    args = ["exec", "--output-schema", "schema.json", "--output-last-message", "answer.json", "q"]
    proc = run_glmcode(args, tmp_path, _env(fake))
    assert proc.returncode == 0, proc.stderr
    assert json.loads((tmp_path / "answer.json").read_text()) == {"answer": "x", "confidence": 0}
    assert (tmp_path / "answer.json").read_text() == proc.stdout


def test_the_fake_refuses_a_response_format_glm_does_not_know(fake_glm) -> None:
    import httpx

    fake = fake_glm([{"content": "{}"}])
    body = {"model": "glm-4.6", "messages": [{"role": "user", "content": "hi"}],
            "response_format": {"type": "json_schema", "json_schema": {}}}
    response = httpx.post(fake.base_url + "/chat/completions", json=body)
    assert response.status_code == 400 and response.json()["error"]["code"] == "1210"
    assert fake.requests[0].body["response_format"]["type"] == "json_schema"


def test_a_trivial_exec_turn_and_json_mode_never_import_jsonschema(fake_glm, tmp_path: Path) -> None:
    fake = fake_glm([{"content": "ok"}, {"content": "{}"}])
    for args in (["exec", "hi"], ["exec", "--json", "hi"]):
        proc = run_glmcode(args, tmp_path, {**_env(fake), "PYTHONPROFILEIMPORTTIME": "1"})
        assert proc.returncode == 0, proc.stderr[-2000:]
        modules = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
        assert "glmcode.agent.loop" in modules
        assert not [m for m in modules if m.split(".")[0] == "jsonschema"]


def test_fix_writes_its_final_answer_to_output_last_message(fake_glm, git_repo: Path) -> None:
    import subprocess

    (git_repo / "a.txt").write_text("old\n")
    subprocess.run(["git", "add", "."], cwd=git_repo, check=True)
    subprocess.run(["git", "commit", "-qm", "start"], cwd=git_repo, check=True)
    fake = fake_glm([
        {"tool_calls": [{"name": "write_file", "arguments": {"path": "a.txt", "content": "new\n"}}]},
        {"content": "Replaced old by new in a.txt."},
    ])
    proc = run_glmcode(["fix", "make a.txt say new", "--output-last-message", "last.md"], git_repo, _env(fake))
    assert proc.returncode == 0, proc.stderr
    assert (git_repo / "last.md").read_text() == "Replaced old by new in a.txt.\n"


def test_fix_checks_output_last_message_before_the_work(fake_glm, git_repo: Path) -> None:
    fake = fake_glm([{"content": "done"}])
    proc = run_glmcode(["fix", "anything", "--output-last-message", "."], git_repo, _env(fake))
    assert proc.returncode == 2 and "is a folder" in proc.stderr
    assert fake.requests == []
