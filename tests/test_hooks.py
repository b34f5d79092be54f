"""Hooks end to end: real hook scripts (Python, written by each test) run by a real `glmcode
exec` against the fake GLM server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import run_glmcode

KEY = "test-key-hooks-3e1f"


def _env(fake) -> dict[str, str]:
    return {"ZAI_API_KEY": KEY, "GLMCODE_BASE_URL": fake.base_url}


def _script(folder: Path, name: str, body: str) -> str:
    """A hook script on disk, and the command that runs it."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("import json, os, sys\nevent = json.load(sys.stdin)\n" + body)
    return f'"{sys.executable}" "{path}"'


def _user_hooks(home: Path, toml: str) -> None:
    cfg = home / ".config" / "glmcode" / "config.toml"
    cfg.parent.mkdir(parents=True, exist_ok=True)
    cfg.write_text(toml)


def _hook(event: str, command: str, **extra: object) -> str:
    lines = [f"[[hooks.{event}]]", f"command = {json.dumps(command)}"]
    lines += [f"{k} = {json.dumps(v)}" for k, v in extra.items()]
    return "\n".join(lines) + "\n"


def _shell(command: str) -> dict:
    return {"tool_calls": [{"name": "run_shell", "arguments": {"command": command}}]}


def _records(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines()]


BLOCK_RM = """
command = event["tool_input"].get("command", "")
if event["tool_name"] == "run_shell" and command.split()[:1] == ["rm"]:
    print(f"rm is not allowed here ({command}); move files to trash/ instead", file=sys.stderr)
    sys.exit(2)
"""


def test_a_pre_tool_use_hook_blocks_rm_and_the_model_is_told_why(fake_glm, tmp_path: Path, isolated_home: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "a.txt").write_text("keep me\n")
    _user_hooks(isolated_home, _hook("pre_tool_use", _script(tmp_path / "hooks", "policy.py", BLOCK_RM), matcher="run_shell"))
    fake = fake_glm([_shell("rm -f a.txt"), {"content": "I could not delete it."}])
    proc = run_glmcode(["exec", "--full-auto", "-o", "stream-json", "delete a.txt"], work, _env(fake))
    assert proc.returncode == 0, proc.stderr
    assert (work / "a.txt").read_text() == "keep me\n"
    tool_message = fake.requests[1].body["messages"][-1]
    assert tool_message["role"] == "tool"
    assert "pre_tool_use hook blocked" in tool_message["content"]
    assert "rm is not allowed here (rm -f a.txt)" in tool_message["content"]
    [hook] = [r for r in _records(proc.stdout) if r["type"] == "hook"]
    assert hook["event"] == "pre_tool_use" and hook["exit_code"] == 2 and hook["outcome"] == "deny"
    assert hook["tool_name"] == "run_shell" and hook["duration"] > 0 and "config.toml:1" in hook["source"]
    # The session log keeps the hook run too.
    [log] = (isolated_home / ".local" / "state" / "glmcode" / "sessions").rglob("*.jsonl")
    logged = [json.loads(line) for line in log.read_text().splitlines()]
    assert any(r.get("type") == "hook" and r["exit_code"] == 2 for r in logged)


def test_the_hook_gets_the_call_as_json_and_other_calls_run(fake_glm, tmp_path: Path, isolated_home: Path) -> None:
    seen = tmp_path / "seen.json"
    body = f"open({str(seen)!r}, 'a').write(json.dumps(event) + '\\n')\n" + BLOCK_RM
    _user_hooks(isolated_home, _hook("pre_tool_use", _script(tmp_path / "hooks", "policy.py", body)))
    fake = fake_glm([_shell("echo fine > out.txt"), {"content": "done"}])
    proc = run_glmcode(["exec", "--full-auto", "write it"], tmp_path, _env(fake))
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "out.txt").read_text() == "fine\n"
    [event] = [json.loads(line) for line in seen.read_text().splitlines()]
    assert event["event"] == "pre_tool_use" and event["tool_name"] == "run_shell"
    assert event["tool_input"]["command"] == "echo fine > out.txt"
    assert event["cwd"] == str(tmp_path.resolve()) and event["session_id"]


def test_a_json_decision_can_deny_or_allow_but_a_deny_rule_still_wins(fake_glm, tmp_path: Path, isolated_home: Path) -> None:
    decide = """
command = event["tool_input"].get("command", "")
if "secret" in command:
    print(json.dumps({"decision": "deny", "reason": "secrets stay put"}))
else:
    print(json.dumps({"decision": "allow", "reason": "team policy allows it"}))
"""
    toml = _hook("pre_tool_use", _script(tmp_path / "hooks", "decide.py", decide), matcher="run_shell")
    _user_hooks(isolated_home, toml + '\n[permissions]\ndeny = ["run_shell:touch denied*"]\n')
    fake = fake_glm([
        _shell("touch allowed.txt"), _shell("touch secret.txt"), _shell("touch denied.txt"), {"content": "ok"},
    ])
    # exec works in auto-edit: a shell command would be refused, were it not for the hook's allow.
    proc = run_glmcode(["exec", "-o", "stream-json", "make files"], tmp_path, _env(fake))
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "allowed.txt").exists()
    assert not (tmp_path / "secret.txt").exists() and not (tmp_path / "denied.txt").exists()
    second, third = (fake.requests[n].body["messages"][-1]["content"] for n in (2, 3))
    assert "secrets stay put" in second
    assert "deny" in third and "hook" not in third
    outcomes = [r["outcome"] for r in _records(proc.stdout) if r["type"] == "hook"]
    assert outcomes == ["allow", "deny"]  # a call the rules deny never reaches the hook


def test_a_hook_that_times_out_is_killed_with_its_children(fake_glm, tmp_path: Path, isolated_home: Path) -> None:
    pid_file = tmp_path / "child.pid"
    slow = f"""
import subprocess, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
open({str(pid_file)!r}, "w").write(str(child.pid))
time.sleep(60)
"""
    _user_hooks(isolated_home, _hook("pre_tool_use", _script(tmp_path / "hooks", "slow.py", slow), timeout_s=1))
    fake = fake_glm([_shell("echo ran > out.txt"), {"content": "done"}])
    proc = run_glmcode(["exec", "--full-auto", "-o", "stream-json", "go"], tmp_path, _env(fake))
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "out.txt").exists(), "a hook that times out is a warning; the call goes on"
    [hook] = [r for r in _records(proc.stdout) if r["type"] == "hook"]
    assert hook["outcome"] == "timeout" and hook["exit_code"] is None and hook["duration"] >= 1
    notices = [r["message"] for r in _records(proc.stdout) if r["type"] == "notice"]
    assert any("took longer than 1s" in n for n in notices)
    child = int(pid_file.read_text())
    assert not _alive(child), "the hook's own child must be killed with it"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = subprocess.run(["ps", "-o", "stat=", "-p", str(pid)], capture_output=True, text=True).stdout
    return bool(status.strip()) and not status.strip().startswith("Z")


def test_a_crashing_hook_is_a_warning_and_the_session_goes_on(fake_glm, tmp_path: Path, isolated_home: Path) -> None:
    _user_hooks(isolated_home, _hook("pre_tool_use", _script(tmp_path / "hooks", "crash.py", "raise RuntimeError('hook bug')\n")))
    fake = fake_glm([_shell("echo ran > out.txt"), {"content": "done"}])
    proc = run_glmcode(["exec", "--full-auto", "-v", "go"], tmp_path, _env(fake))
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "out.txt").exists()
    assert "exited with code 1" in proc.stderr and "RuntimeError: hook bug" in proc.stderr
    assert "   hook pre_tool_use failed (" in proc.stderr  # -v shows each hook run
    assert proc.stdout.strip() == "done"


FORMAT = """
path = event["tool_input"]["path"]
text = open(path).read()
open(path, "w").write("\\n".join(line.rstrip() for line in text.splitlines()) + "\\n")
if "TODO" in text:
    print(f"{path} still has a TODO", file=sys.stderr)
    sys.exit(2)
"""


def test_a_post_tool_use_hook_formats_the_file_and_its_complaint_reaches_the_model(
    fake_glm, tmp_path: Path, isolated_home: Path
) -> None:
    _user_hooks(isolated_home, _hook("post_tool_use", _script(tmp_path / "hooks", "fmt.py", FORMAT), matcher="write_file|edit_file"))
    fake = fake_glm([
        {"tool_calls": [{"name": "write_file", "arguments": {"path": "a.py", "content": "x = 1   \ny = 2  \n"}}]},
        {"tool_calls": [{"name": "write_file", "arguments": {"path": "b.py", "content": "# TODO   \n"}}]},
        {"content": "written"},
    ])
    proc = run_glmcode(["exec", "write them"], tmp_path, _env(fake))
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "a.py").read_text() == "x = 1\ny = 2\n"
    assert (tmp_path / "b.py").read_text() == "# TODO\n"
    first = fake.requests[1].body["messages"][-1]["content"]
    second = fake.requests[2].body["messages"][-1]["content"]
    assert "post_tool_use hook" not in first
    assert "A post_tool_use hook" in second and "b.py still has a TODO" in second


def test_a_user_prompt_submit_hook_adds_context_or_stops_the_prompt(fake_glm, tmp_path: Path, isolated_home: Path) -> None:
    body = """
if "forbidden" in event["prompt"]:
    print("prompts about that go to the security team", file=sys.stderr)
    sys.exit(2)
print("Ticket ABC-12: the login page times out.")
"""
    _user_hooks(isolated_home, _hook("user_prompt_submit", _script(tmp_path / "hooks", "ticket.py", body)))
    fake = fake_glm([{"content": "on it"}])
    proc = run_glmcode(["exec", "fix the ticket"], tmp_path, _env(fake))
    assert proc.returncode == 0, proc.stderr
    sent = fake.requests[0].body["messages"][1]["content"]
    assert sent == "fix the ticket\n\nTicket ABC-12: the login page times out."
    proc = run_glmcode(["exec", "something forbidden"], tmp_path, _env(fake))
    assert proc.returncode == 1
    assert "prompts about that go to the security team" in proc.stderr
    assert len(fake.requests) == 1, "a stopped prompt is never sent"


def test_session_start_and_stop_hooks_run_once_each(fake_glm, tmp_path: Path, isolated_home: Path) -> None:
    log = tmp_path / "log.txt"
    record = f"open({str(log)!r}, 'a').write(event['event'] + ' ' + event.get('status', event.get('source', '')) + '\\n')\n"
    start = record + "print('The team uses tabs.')\n"
    toml = _hook("session_start", _script(tmp_path / "hooks", "start.py", start))
    toml += _hook("stop", _script(tmp_path / "hooks", "stop.py", record))
    _user_hooks(isolated_home, toml)
    fake = fake_glm([{"content": "hi"}])
    proc = run_glmcode(["exec", "-o", "stream-json", "hello"], tmp_path, _env(fake))
    assert proc.returncode == 0, proc.stderr
    assert log.read_text() == "session_start startup\nstop done\n"
    assert fake.requests[0].body["messages"][1]["content"] == "hello\n\nThe team uses tabs."
    types = [r["type"] for r in _records(proc.stdout)]
    assert types.index("hook", types.index("hook") + 1) < types.index("run_finished")


def test_a_project_hook_runs_only_once_the_project_is_trusted(fake_glm, git_repo: Path, tmp_path: Path) -> None:
    marker = tmp_path / "ran.txt"
    command = _script(git_repo / ".glmcode" / "hooks", "mark.py", f"open({str(marker)!r}, 'a').write('ran\\n')\n")
    (git_repo / ".glmcode" / "config.toml").write_text(_hook("user_prompt_submit", command))
    fake = fake_glm([{"content": "one"}, {"content": "two"}])
    proc = run_glmcode(["exec", "hello"], git_repo, _env(fake))
    assert proc.returncode == 0, proc.stderr
    assert not marker.exists()
    assert "project hook user_prompt_submit" in proc.stderr and "ignored until you run `glmcode trust`" in proc.stderr
    assert run_glmcode(["trust"], git_repo).returncode == 0
    proc = run_glmcode(["exec", "hello"], git_repo, _env(fake))
    assert proc.returncode == 0, proc.stderr
    assert marker.read_text() == "ran\n" and "ignored" not in proc.stderr


def test_a_bad_hook_entry_names_the_file_and_line(tmp_path: Path, isolated_home: Path) -> None:
    _user_hooks(isolated_home, 'model = "glm-4.6"\n\n[[hooks.before_tool]]\ncommand = "true"\n')
    proc = run_glmcode(["exec", "hi"], tmp_path, {"ZAI_API_KEY": KEY})
    assert proc.returncode == 2
    assert "config.toml:3" in proc.stderr and "unknown hook event" in proc.stderr and "pre_tool_use" in proc.stderr
    _user_hooks(isolated_home, '[[hooks.pre_tool_use]]\nmatcher = "(("\ncommand = "true"\n')
    proc = run_glmcode(["exec", "hi"], tmp_path, {"ZAI_API_KEY": KEY})
    assert proc.returncode == 2 and "not a valid regular expression" in proc.stderr and "Traceback" not in proc.stderr


def test_hooks_run_in_fix_too(fake_glm, git_repo: Path, isolated_home: Path, tmp_path: Path) -> None:
    (git_repo / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    (git_repo / "obsolete.py").write_text("OLD = True\n")
    for args in (["add", "."], ["commit", "-qm", "start"]):
        subprocess.run(["git", *args], cwd=git_repo, check=True)
    _user_hooks(isolated_home, _hook("pre_tool_use", _script(tmp_path / "hooks", "policy.py", BLOCK_RM), matcher="run_shell"))
    edit = {"tool_calls": [{"name": "edit_file", "arguments": {"path": "calc.py", "old_string": "a - b", "new_string": "a + b"}}]}
    fake = fake_glm([_shell("rm obsolete.py"), edit, {"content": "Fixed."}])
    check = f'"{sys.executable}" -c "from calc import add; raise SystemExit(add(2, 3) != 5)"'
    proc = run_glmcode(["fix", "make add add", "--check", check], git_repo, _env(fake))
    assert proc.returncode == 0, proc.stderr
    assert (git_repo / "obsolete.py").exists()
    assert "rm is not allowed here" in fake.requests[1].body["messages"][-1]["content"]


def test_a_post_tool_use_hook_never_sees_the_api_key(fake_glm, tmp_path: Path, isolated_home: Path) -> None:
    seen = tmp_path / "seen.json"
    body = f"open({str(seen)!r}, 'w').write(json.dumps(event) + json.dumps(dict(os.environ)))\n"
    _user_hooks(isolated_home, _hook("post_tool_use", _script(tmp_path / "hooks", "log.py", body)))
    fake = fake_glm([_shell(f"echo {KEY}"), {"content": "done"}])
    proc = run_glmcode(["exec", "--full-auto", "say it"], tmp_path, _env(fake))
    assert proc.returncode == 0, proc.stderr
    logged = seen.read_text()
    assert "[redacted]" in logged and KEY not in logged
