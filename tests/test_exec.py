"""`glmcode exec` end to end: a real process, the real client, the fake GLM server over HTTP."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import INTERPRETER_HIDDEN_BY_SANDBOX, run_glmcode

KEY = "test-key-7f3a9c1e5b2d4f60"


def _env(fake) -> dict[str, str]:
    return {"ZAI_API_KEY": KEY, "GLMCODE_BASE_URL": fake.base_url}


def test_hello_prints_the_answer_and_sends_a_faithful_request(fake_glm, tmp_path: Path) -> None:
    fake = fake_glm([{"reasoning": "\nThe user greets me.", "content": "\nHello! How can I help?"}])
    proc = run_glmcode(["exec", "hello"], tmp_path, _env(fake))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "Hello! How can I help?\n"
    [req] = fake.requests
    assert req.path.endswith("/chat/completions")
    assert req.headers["authorization"] == f"Bearer {KEY}"
    body = req.body
    assert body["model"] == "glm-4.6"
    assert body["thinking"] == {"type": "enabled"}
    assert body["stream"] is True and body["tool_stream"] is True
    assert body["tool_choice"] == "auto"
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert body["messages"][1]["content"] == "hello"
    assert all(isinstance(m["content"], str) for m in body["messages"])
    names = [t["function"]["name"] for t in body["tools"]]
    assert names == ["read_file", "write_file", "edit_file", "apply_patch", "run_shell", "grep", "glob", "todo_write",
                     "web_fetch", "web_search", "task"]
    for forbidden in ("parallel_tool_calls", "frequency_penalty", "logit_bias", "n", "seed", "stream_options"):
        assert forbidden not in body
    assert KEY not in proc.stdout + proc.stderr


def test_first_request_stays_small(fake_glm, git_repo: Path) -> None:
    fake = fake_glm([{"content": "ok"}])
    (git_repo / "main.py").write_text("print('hi')\n")
    assert run_glmcode(["exec", "hi"], git_repo, _env(fake)).returncode == 0
    size = len(json.dumps(fake.requests[0].body, ensure_ascii=False).encode())
    assert size <= 16 * 1024, f"first request is {size} bytes"


def test_prompt_from_stdin(fake_glm, tmp_path: Path) -> None:
    fake = fake_glm([{"content": "read it"}])
    proc = run_glmcode(["exec", "-"], tmp_path, _env(fake), stdin="what is in stdin\n")
    assert proc.returncode == 0, proc.stderr
    assert fake.requests[0].body["messages"][1]["content"] == "what is in stdin\n"


def test_missing_key_tells_exactly_what_to_do(tmp_path: Path) -> None:
    proc = run_glmcode(["exec", "hello"], tmp_path)
    assert proc.returncode == 2
    assert "ZAI_API_KEY" in proc.stderr
    assert "config.toml" in proc.stderr
    assert "zai-coding" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_bad_config_file_names_file_and_line(tmp_path: Path, isolated_home: Path) -> None:
    cfg = isolated_home / ".config" / "glmcode" / "config.toml"
    cfg.parent.mkdir(parents=True)
    cfg.write_text('model = "glm-4.6"\ntemperature = "hot"\n')
    proc = run_glmcode(["exec", "hello"], tmp_path, {"ZAI_API_KEY": KEY})
    assert proc.returncode == 2
    assert "glmcode/config.toml:2" in proc.stderr and "temperature" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_json_output_is_one_object(fake_glm, tmp_path: Path) -> None:
    fake = fake_glm([{"content": "42", "usage": {"prompt_tokens": 1000, "completion_tokens": 10, "cached_tokens": 800}}])
    proc = run_glmcode(["exec", "-o", "json", "answer?"], tmp_path, _env(fake))
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["status"] == "done" and out["result"] == "42" and out["turns"] == 1
    assert out["usage"] == {"prompt_tokens": 1000, "completion_tokens": 10, "cached_tokens": 800}
    assert out["cost_usd"] > 0 and out["error"] is None and out["session_id"]


def test_stream_json_prints_each_event_then_the_result(fake_glm, tmp_path: Path) -> None:
    fake = fake_glm([
        {"reasoning": "thinking hard", "tool_calls": [{"name": "glob", "arguments": {"pattern": "*.txt"}}]},
        {"content": "one file"},
    ])
    (tmp_path / "a.txt").write_text("x")
    proc = run_glmcode(["exec", "-o", "stream-json", "list"], tmp_path, _env(fake))
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    types = [r["type"] for r in records]
    assert types[0] == "session_started" and types[-1] == "result"
    for t in ("reasoning", "tool_call", "tool_result", "text", "usage", "turn_finished", "run_finished"):
        assert t in types
    result = next(r for r in records if r["type"] == "tool_result")
    assert result["name"] == "glob" and "a.txt" in result["output"] and not result["is_error"]


def test_tool_results_go_back_paired_and_reasoning_is_replayed(fake_glm, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("alpha\nbeta\n")
    fake = fake_glm([
        {"reasoning": "\nI should read both.", "content": "Reading.",
         "tool_calls": [{"name": "read_file", "arguments": {"path": "notes.txt"}, "id": "call_a"},
                        {"name": "grep", "arguments": {"pattern": "beta"}, "id": "call_b"}]},
        {"content": "It says alpha and beta."},
    ])
    proc = run_glmcode(["exec", "summarise notes.txt"], tmp_path, _env(fake))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "It says alpha and beta."
    first, second = (r.body["messages"] for r in fake.requests)
    assert second[: len(first)] == first, "the conversation must only grow by appending"
    assistant, tool_a, tool_b = second[len(first):]
    assert assistant["role"] == "assistant"
    assert assistant["reasoning_content"] == "\nI should read both."
    assert assistant["content"] == "Reading."
    assert [c["id"] for c in assistant["tool_calls"]] == ["call_a", "call_b"]
    assert json.loads(assistant["tool_calls"][0]["function"]["arguments"]) == {"path": "notes.txt"}
    assert (tool_a["role"], tool_a["tool_call_id"]) == ("tool", "call_a")
    assert "1\talpha" in tool_a["content"]
    assert tool_b["tool_call_id"] == "call_b" and "beta" in tool_b["content"]
    assert fake.requests[0].body["tools"] == fake.requests[1].body["tools"]


def test_shell_is_refused_in_exec_by_default_and_the_user_is_told_how_to_allow(fake_glm, tmp_path: Path) -> None:
    fake = fake_glm([
        {"tool_calls": [{"name": "run_shell", "arguments": {"command": "touch made-by-shell"}}]},
        {"content": "I could not run it."},
    ])
    # Without the sandbox; with it, auto-edit runs the command (tests/test_sandbox_exec.py).
    proc = run_glmcode(["exec", "--sandbox", "off", "make a file"], tmp_path, _env(fake))
    assert proc.returncode == 0, proc.stderr
    assert not (tmp_path / "made-by-shell").exists()
    tool_msg = fake.requests[1].body["messages"][-1]
    assert tool_msg["role"] == "tool" and "Not run" in tool_msg["content"]
    assert "--full-auto" in proc.stderr


@INTERPRETER_HIDDEN_BY_SANDBOX
def test_full_auto_fixes_a_failing_test(fake_glm, git_repo: Path) -> None:
    (git_repo / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    (git_repo / "test_calc.py").write_text("from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n")
    subprocess.run(["git", "add", "."], cwd=git_repo, check=True)
    subprocess.run(["git", "commit", "-qm", "start"], cwd=git_repo, check=True)
    check = f"{sys.executable} -m pytest -q -p no:cacheprovider"
    fake = fake_glm([
        {"tool_calls": [{"name": "run_shell", "arguments": {"command": check}}]},
        {"tool_calls": [{"name": "read_file", "arguments": {"path": "calc.py"}}]},
        {"tool_calls": [{"name": "edit_file", "arguments": {"path": "calc.py", "old_string": "a - b", "new_string": "a + b"}}]},
        {"tool_calls": [{"name": "run_shell", "arguments": {"command": check}}]},
        {"content": "Fixed: `add` subtracted; it adds now and the test passes."},
    ])
    proc = run_glmcode(["exec", "--full-auto", "make the failing test pass"], git_repo, _env(fake))
    assert proc.returncode == 0, proc.stderr
    assert (git_repo / "calc.py").read_text() == "def add(a, b):\n    return a + b\n"
    results = [r.body["messages"][-1]["content"] for r in fake.requests[1:]]
    assert "failed" in results[0] and "1 passed" in results[3]
    assert "Fixed" in proc.stdout


def test_max_turns_exits_5(fake_glm, tmp_path: Path) -> None:
    fake = fake_glm([{"tool_calls": [{"name": "glob", "arguments": {"pattern": "*"}}]}] * 3)
    proc = run_glmcode(["exec", "--max-turns", "2", "loop"], tmp_path, _env(fake))
    assert proc.returncode == 5
    assert len(fake.requests) == 2


def test_wrong_key_exits_1_with_a_hint_and_never_prints_the_key(fake_glm, tmp_path: Path) -> None:
    fake = fake_glm([{"content": "never"}], api_key="the-right-key")
    proc = run_glmcode(["exec", "-o", "json", "hello"], tmp_path, _env(fake))
    assert proc.returncode == 1
    out = json.loads(proc.stdout)
    assert out["status"] == "error" and out["error"]["kind"] == "auth"
    assert "ZAI_API_KEY" in out["error"]["hint"]
    assert KEY not in proc.stdout + proc.stderr
    assert len(fake.requests) == 1


def test_session_file_holds_every_event(fake_glm, tmp_path: Path, isolated_home: Path) -> None:
    fake = fake_glm([{"content": "saved"}])
    proc = run_glmcode(["exec", "-o", "json", "remember"], tmp_path, _env(fake))
    session_id = json.loads(proc.stdout)["session_id"]
    [path] = (isolated_home / ".local" / "state" / "glmcode" / "sessions").rglob(f"{session_id}.jsonl")
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines[0]["type"] == "session" and lines[0]["version"] == 1
    types = [line["type"] for line in lines]
    assert "message" in types and types[-1] == "run_finished"
    assert KEY not in path.read_text()


def test_version_imports_nothing_heavy(tmp_path: Path) -> None:
    code = (
        "import sys; from glmcode.cli import main; main(['--version']);"
        "heavy = [m for m in ('typer', 'click', 'rich', 'httpx', 'git', 'prompt_toolkit') if m in sys.modules];"
        "print(heavy)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert proc.stdout.splitlines() == ["glmcode 0.1.0", "[]"]


def test_usage_error_exits_2(tmp_path: Path) -> None:
    proc = run_glmcode(["exec", "--output-format", "xml", "hi"], tmp_path)
    assert proc.returncode == 2


def test_the_key_never_reaches_the_model_or_the_output(fake_glm, tmp_path: Path, isolated_home: Path) -> None:
    (tmp_path / "leak.txt").write_text(f"token={KEY}\n")
    fake = fake_glm([
        {"tool_calls": [{"name": "read_file", "arguments": {"path": "leak.txt"}},
                        {"name": "run_shell", "arguments": {"command": "echo key=$ZAI_API_KEY"}}]},
        {"content": "done"},
    ])
    proc = run_glmcode(["exec", "--full-auto", "-o", "stream-json", "leak it"], tmp_path, _env(fake))
    assert proc.returncode == 0, proc.stderr
    assert KEY not in proc.stdout + proc.stderr
    sent = json.dumps(fake.requests[1].body)
    assert KEY not in sent and "[redacted]" in sent


def test_max_turns_must_be_positive(tmp_path: Path) -> None:
    assert run_glmcode(["exec", "--max-turns", "0", "hi"], tmp_path).returncode == 2


def test_a_prompt_that_names_a_command_is_still_a_prompt() -> None:
    from glmcode.cli import _first_word

    assert _first_word(["explain", "config"]) == "explain"
    assert _first_word(["--model", "exec", "config"]) == "config"
    assert _first_word(["-C", "/tmp", "exec", "hi"]) == "exec"
    assert _first_word(["--full-auto"]) is None


def test_an_unusable_state_folder_is_a_message_not_a_traceback(fake_glm, tmp_path: Path) -> None:
    fake = fake_glm([{"content": "never"}])
    blocker = tmp_path / "state-is-a-file"
    blocker.write_text("")
    proc = run_glmcode(["exec", "hi"], tmp_path, {**_env(fake), "XDG_STATE_HOME": str(blocker)})
    assert proc.returncode == 1
    assert "cannot open the session file" in proc.stderr and "Traceback" not in proc.stderr


def test_verbose_progress_keeps_retries_on_their_own_line(fake_glm, tmp_path: Path) -> None:
    fake = fake_glm([{"content": "alpha beta gamma delta", "cut_after": 3}, {"content": "alpha beta gamma delta"}])
    proc = run_glmcode(["exec", "-v", "hi"], tmp_path, _env(fake))
    assert proc.returncode == 0, proc.stderr
    retry = next(line for line in proc.stderr.splitlines() if "retrying" in line)
    assert retry.startswith("glmcode: ")
    quiet = run_glmcode(["exec", "hi"], tmp_path, _env(fake_glm([{"content": "a b c", "cut_after": 2}, {"content": "a b c"}])))
    assert quiet.stdout == "a b c\n" and "retrying" not in quiet.stderr


def test_cometapi_preset_talks_glm_under_its_v1_path(fake_glm, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("alpha\n")
    fake = fake_glm([
        {"reasoning": "\nRead it first.", "tool_calls": [{"name": "read_file", "arguments": {"path": "notes.txt"}}]},
        {"content": "It says alpha."},
    ])
    origin = fake.base_url.split("/api/", 1)[0]
    env = {"GLMCODE_API_KEY": KEY, "GLMCODE_BASE_URL": f"{origin}/v1", "GLMCODE_PROVIDER": "cometapi"}
    proc = run_glmcode(["exec", "what do the notes say?"], tmp_path, env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "It says alpha."
    assert [r.path for r in fake.requests] == ["/v1/chat/completions"] * 2
    first = fake.requests[0]
    assert first.headers["authorization"] == f"Bearer {KEY}"
    assert first.body["model"] == "glm-4.6"
    assert first.body["thinking"] == {"type": "enabled"}
    assert "tool_stream" not in first.body
    assert "1\talpha" in fake.requests[1].body["messages"][-1]["content"]


def test_sigterm_ends_the_run_as_interrupted_with_its_result_and_session(fake_glm, tmp_path: Path, isolated_home: Path) -> None:
    import os
    import signal

    fifo = tmp_path / "started"
    os.mkfifo(fifo)
    shell = {"tool_calls": [{"name": "run_shell", "arguments": {"command": "echo started > started; sleep 60"}}]}
    fake = fake_glm([shell, {"content": "never asked"}])
    proc = subprocess.Popen([sys.executable, "-m", "glmcode", "exec", "--full-auto", "-o", "json", "wait"],
                            cwd=tmp_path, env={**os.environ, **_env(fake)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with open(fifo) as f:  # returns once the command is running
        assert f.read() == "started\n"
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr
    result = json.loads(stdout)
    assert result["status"] == "interrupted" and len(fake.requests) == 1
    [path] = (isolated_home / ".local" / "state" / "glmcode" / "sessions").rglob(f"{result['session_id']}.jsonl")
    assert json.loads(path.read_text().splitlines()[-1])["type"] == "run_finished"
