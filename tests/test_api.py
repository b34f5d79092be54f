"""The Python API (glmcode.run, glmcode.stream) against the fake GLM over HTTP, and the
examples in docs/python-api.md run as a user would run them."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import run_glmcode

import glmcode
from glmcode.events import ApprovalNeeded, Notice, TextDelta, ToolCallFinished

ROOT = Path(__file__).resolve().parents[1]
KEY = "test-key-api-9e8d7c6b"
SCHEMA = {
    "type": "object",
    "required": ["answer", "confidence"],
    "properties": {"answer": {"type": "string"}, "confidence": {"type": "number"}},
}


def _settings(fake) -> dict[str, str]:
    return {"base_url": fake.base_url, "api_key": KEY}


def _write(path: str, content: str = "x\n") -> dict:
    return {"tool_calls": [{"name": "write_file", "arguments": {"path": path, "content": content}}]}


def test_run_with_a_schema_corrects_the_answer_and_returns_it_parsed(fake_glm, tmp_path: Path) -> None:
    fake = fake_glm([{"content": "It is 4."}, {"content": '{"answer": "4", "confidence": 0.9}',
                                              "usage": {"prompt_tokens": 100, "completion_tokens": 9}}])
    result = glmcode.run("2+2?", cwd=tmp_path, output_schema=SCHEMA, settings=_settings(fake))
    assert result.ok and result.status == "done"
    assert result.structured_output == {"answer": "4", "confidence": 0.9}
    assert result.text == '{"answer": "4", "confidence": 0.9}'
    assert result.turns == 2 and result.validation_errors == () and result.error is None
    assert result.usage.prompt_tokens >= 100 and result.cost_usd > 0 and result.session_id
    retry = fake.requests[1].body
    assert retry["response_format"] == {"type": "json_object"}
    assert "$: the answer is not JSON" in retry["messages"][-1]["content"]


def test_an_answer_still_invalid_is_a_result_not_an_exception(fake_glm, tmp_path: Path) -> None:
    fake = fake_glm([{"content": '{"answer": 4}'}])
    result = glmcode.run("2+2?", cwd=tmp_path, output_schema=SCHEMA, schema_retries=0, settings=_settings(fake))
    assert result.status == "invalid_output" and not result.ok
    assert result.text == '{"answer": 4}' and result.structured_output is None
    assert "$.answer: 4 is not of type 'string'" in result.validation_errors
    assert result.error is not None and result.error.kind == "invalid_output"


def test_the_event_callback_sees_what_stream_json_prints(fake_glm, tmp_path: Path) -> None:
    script = [{"reasoning": "look first", "tool_calls": [{"name": "glob", "arguments": {"pattern": "*.txt"}}]},
              {"content": "one file"}]
    (tmp_path / "a.txt").write_text("x")
    seen: list = []
    result = glmcode.run("list", cwd=tmp_path, on_event=seen.append, settings=_settings(fake_glm(script)))
    assert result.text == "one file" and result.tool_calls == 1
    fake = fake_glm(script)
    proc = run_glmcode(["exec", "-o", "stream-json", "list"], tmp_path, {"ZAI_API_KEY": KEY, "GLMCODE_BASE_URL": fake.base_url})
    printed = [json.loads(line) for line in proc.stdout.splitlines()][:-1]  # less exec's result line
    assert [e.type for e in seen] == [r["type"] for r in printed]
    ours = next(e.to_dict() for e in seen if isinstance(e, ToolCallFinished))
    theirs = next(r for r in printed if r["type"] == "tool_result")
    assert {k: v for k, v in ours.items() if k not in ("id", "duration")} == {
        k: v for k, v in theirs.items() if k not in ("id", "duration")}


def test_an_approval_callback_that_refuses(fake_glm, tmp_path: Path) -> None:
    fake = fake_glm([_write("a.txt"), {"content": "I could not write it."}])
    asked: list = []

    def approve(request: glmcode.ApprovalRequest) -> bool:
        asked.append(request)
        return False

    events: list = []
    result = glmcode.run("write a.txt", cwd=tmp_path, permission_mode="ask", approve=approve,
                         on_event=events.append, settings=_settings(fake))
    [request] = asked
    assert request.tool == "write_file" and request.kind == "edit" and request.args["path"] == "a.txt"
    assert "+x" in request.preview
    assert not (tmp_path / "a.txt").exists() and result.files_changed == ()
    assert any(isinstance(e, ApprovalNeeded) for e in events)
    tool_message = fake.requests[1].body["messages"][-1]
    assert tool_message["role"] == "tool" and "declined" in tool_message["content"]


def test_an_approval_callback_that_allows_and_the_files_it_changed(fake_glm, tmp_path: Path) -> None:
    (tmp_path / "b.txt").write_text("old\n")
    fake = fake_glm([
        _write("a.txt"),
        {"tool_calls": [{"name": "edit_file", "arguments": {"path": "b.txt", "old_string": "old", "new_string": "new"}}]},
        _write("a.txt", "x\n"),  # the same content again: nothing changes
        {"content": "Done."},
    ])
    result = glmcode.run("write", cwd=tmp_path, permission_mode="ask",
                         approve=lambda request: glmcode.ApprovalAnswer("yes"), settings=_settings(fake))
    assert result.ok and (tmp_path / "a.txt").read_text() == "x\n" and (tmp_path / "b.txt").read_text() == "new\n"
    assert result.files_changed == ("a.txt", "b.txt")


def test_without_a_callback_ask_means_deny(fake_glm, tmp_path: Path) -> None:
    fake = fake_glm([_write("a.txt"), {"content": "Not allowed."}])
    events: list = []
    result = glmcode.run("write a.txt", cwd=tmp_path, permission_mode="ask", on_event=events.append, settings=_settings(fake))
    assert result.ok and not (tmp_path / "a.txt").exists()
    notice = next(e for e in events if isinstance(e, Notice))
    assert "approve=" in notice.message
    assert "nobody can approve it" in fake.requests[1].body["messages"][-1]["content"]


def test_the_iterator_form_yields_events_then_holds_the_result(fake_glm, tmp_path: Path) -> None:
    fake = fake_glm([{"content": ["Hel", "lo"]}])
    events = glmcode.stream("hi", cwd=tmp_path, settings=_settings(fake))
    assert events.result is None
    with events:
        texts = [e.text for e in events if isinstance(e, TextDelta)]
    assert "".join(texts) == "Hello"
    assert events.result is not None and events.result.text == "Hello"
    assert events.result.session_id == events.session_id


def test_leaving_the_iterator_early_closes_the_session_file(fake_glm, tmp_path: Path, isolated_home: Path) -> None:
    fake = fake_glm([{"content": "a long answer"}])
    with glmcode.stream("hi", cwd=tmp_path, settings=_settings(fake)) as events:
        first = next(events)
    assert first.type == "session_started" and events.result is None
    [session] = list((isolated_home / ".local" / "state").rglob("*.jsonl"))
    assert json.loads(session.read_text().splitlines()[-1])["type"] == "session_started"


@pytest.mark.parametrize("kwargs, message", [
    ({"output_schema": {"type": "strin"}}, "is not a valid JSON Schema: $.type"),
    ({"output_schema": "missing.json"}, "cannot read the schema file"),
    ({"output_schema": SCHEMA, "json_output": True}, "not both"),
    ({"permission_mode": "yolo"}, "permission mode"),
    ({"resume": "nothing-like-it"}, "there are no sessions for this project yet"),
    ({"settings": {"colour": "blue"}}, "colour"),
])
def test_a_run_that_cannot_start_raises_before_any_request(fake_glm, tmp_path: Path, kwargs: dict, message: str) -> None:
    fake = fake_glm([{"content": "{}"}])
    kwargs = {**kwargs, "settings": {**_settings(fake), **kwargs.get("settings", {})}}
    with pytest.raises(glmcode.SetupError, match=re.escape(message)):
        glmcode.run("hi", cwd=tmp_path, **kwargs)
    assert fake.requests == []


def test_no_key_is_a_setup_error(tmp_path: Path) -> None:
    with pytest.raises(glmcode.SetupError, match="no API key found"):
        glmcode.run("hi", cwd=tmp_path)


def test_the_api_imports_no_terminal_code(fake_glm, tmp_path: Path) -> None:
    fake = fake_glm([{"content": "ok"}])
    code = (
        "import sys, glmcode\n"
        f"r = glmcode.run('hi', settings={{'base_url': {fake.base_url!r}, 'api_key': 'k'}})\n"
        "assert r.ok, r\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('rich', 'typer', 'click', 'prompt_toolkit', 'pyte')"
        " or m.startswith('glmcode.ui') or m == 'glmcode.cli'))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "[]\n"


def test_version_does_not_load_the_api(tmp_path: Path) -> None:
    proc = run_glmcode(["--version"], tmp_path, {"PYTHONPROFILEIMPORTTIME": "1"})
    modules = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    assert "glmcode" in modules and "glmcode.api" not in modules and "glmcode.events" not in modules


# One script per Python example in docs/python-api.md, in order, and what it prints.
DOC_EXAMPLES = [
    ([{"content": "It is a demo."}], "It is a demo.\n1 turns"),
    ([], "cannot start: the schema is not a valid JSON Schema"),
    ([{"content": '{"risky": ["db/migrate.py"], "summary": "one"}'}], "risky: db/migrate.py\n"),
    ([{"tool_calls": [{"name": "glob", "arguments": {"pattern": "*.py"}}]}, {"content": "In version.py."}],
     '-> glob {"pattern": "*.py", "path": null}\n'),
    ([{"content": ["The main ", "module prints."]}], "The main module prints.\ndone\n"),
    ([_write("src/fix.py"), _write("other.py"), {"content": "Fixed."}], "('src/fix.py',)\n"),
    (None, "bug\n"),  # starts its own fake server
]


def test_the_python_api_page_examples_run(fake_glm, tmp_path: Path) -> None:
    page = (ROOT / "docs" / "python-api.md").read_text()
    blocks = re.findall(r"```python\n(.*?)\n```", page, re.S)
    assert len(blocks) == len(DOC_EXAMPLES)
    for n, (code, (script, expected)) in enumerate(zip(blocks, DOC_EXAMPLES)):
        env = {} if script is None else {"ZAI_API_KEY": KEY, "GLMCODE_BASE_URL": fake_glm(script).base_url}
        work = tmp_path / f"example{n}"
        work.mkdir()
        proc = subprocess.run([sys.executable, "-c", code], cwd=work, env={**_environ(), **env},
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, f"example {n}:\n{code}\n{proc.stderr}"
        assert expected in proc.stdout, f"example {n} printed {proc.stdout!r}"
    assert (tmp_path / "example5" / "src" / "fix.py").is_file() and not (tmp_path / "example5" / "other.py").exists()


def _environ() -> dict[str, str]:
    import os

    return dict(os.environ)


def test_ctrl_c_in_the_callback_ends_the_run_cleanly(fake_glm, tmp_path: Path) -> None:
    fake = fake_glm([{"content": ["Part one. ", "Part two."]}])

    def interrupt(event) -> None:
        if isinstance(event, TextDelta):
            raise KeyboardInterrupt

    result = glmcode.run("go", cwd=tmp_path, on_event=interrupt, settings=_settings(fake))
    assert result.status == "interrupted" and result.text == "Part one. "


def test_an_unusable_state_folder_is_a_setup_error(fake_glm, tmp_path: Path) -> None:
    blocker = tmp_path / "state-is-a-file"
    blocker.write_text("")
    fake = fake_glm([{"content": "never"}])
    env = {"HOME": str(tmp_path), "XDG_STATE_HOME": str(blocker)}
    with pytest.raises(glmcode.SetupError, match="cannot open the session file"):
        glmcode.run("hi", cwd=tmp_path, env=env, settings=_settings(fake))
    assert fake.requests == []
