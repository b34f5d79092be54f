"""MCP end to end: real servers written with the SDK (tests/mcp_servers/calc.py), over stdio and
streamable HTTP on 127.0.0.1, driven by `glmcode exec` against the fake GLM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import run_glmcode

from glmcode.config.trust import trust_project

CALC = Path(__file__).resolve().parent / "mcp_servers" / "calc.py"
KEY = "test-key-5d1c9a7e3b2f4a60"
# The machine may be busy: a server written in Python takes seconds to import its SDK.
SLOW_START = 60


def _env(fake: object) -> dict[str, str]:
    return {"ZAI_API_KEY": KEY, "GLMCODE_BASE_URL": fake.base_url}  # type: ignore[attr-defined]


def _config(servers: dict[str, dict]) -> None:
    """Servers in the user's config file."""
    path = Path(os.environ["XDG_CONFIG_HOME"]) / "glmcode" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    for name, table in servers.items():
        lines.append(f"[mcp_servers.{name}]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in {"startup_timeout_s": SLOW_START, **table}.items()]
    path.write_text("\n".join(lines) + "\n")


def _calc(**extra: object) -> dict:
    return {"command": sys.executable, "args": [str(CALC)], **extra}


def _call(name: str, args: dict, call_id: str = "c1") -> dict:
    return {"tool_calls": [{"name": name, "arguments": args, "id": call_id}]}


def _tool_messages(body: dict) -> list[str]:
    return [m["content"] for m in body["messages"] if m["role"] == "tool"]


def test_add_list_exec_remove_as_a_new_user_would(fake_glm, tmp_path: Path) -> None:
    added = run_glmcode(["mcp", "add", "calc", "--", sys.executable, str(CALC)], tmp_path)
    assert added.returncode == 0, added.stderr
    assert "added MCP server calc" in added.stdout
    listed = run_glmcode(["mcp", "list"], tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "calc  stdio" in listed.stdout and "ready · 8 tools" in listed.stdout

    fake = fake_glm([_call("mcp__calc__add", {"a": 2, "b": 3}), {"content": "2 + 3 = 5"}])
    proc = run_glmcode(["exec", "--full-auto", "add 2 and 3"], tmp_path, _env(fake))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "2 + 3 = 5\n"
    first, second = (r.body for r in fake.requests)
    [add] = [t["function"] for t in first["tools"] if t["function"]["name"] == "mcp__calc__add"]
    assert add["description"] == "Add two whole numbers."
    assert add["parameters"]["type"] == "object" and set(add["parameters"]["required"]) == {"a", "b"}
    assert _tool_messages(second) == ["5"]

    removed = run_glmcode(["mcp", "remove", "calc"], tmp_path)
    assert removed.returncode == 0 and "removed MCP server calc" in removed.stdout
    assert "no MCP servers configured" in run_glmcode(["mcp", "list"], tmp_path).stdout


def test_an_untrusted_projects_server_is_not_started(fake_glm, git_repo: Path, tmp_path: Path) -> None:
    mark = tmp_path / "started.txt"
    (git_repo / ".mcp.json").write_text(json.dumps(
        {"mcpServers": {"calc": {"command": sys.executable, "args": [str(CALC)], "env": {"CALC_MARK": str(mark)}}}}
    ))
    fake = fake_glm([{"content": "ok"}])
    proc = run_glmcode(["exec", "--full-auto", "hi"], git_repo, _env(fake))
    assert proc.returncode == 0, proc.stderr
    assert "defines the MCP server calc" in proc.stderr and "glmcode trust" in proc.stderr
    assert not mark.exists()
    assert not any(t["function"]["name"].startswith("mcp__") for t in fake.requests[0].body["tools"])

    trust_project(git_repo)
    fake = fake_glm([_call("mcp__calc__add", {"a": 1, "b": 1}), {"content": "2"}])
    proc = run_glmcode(["exec", "--full-auto", "1+1"], git_repo, _env(fake))
    assert proc.returncode == 0, proc.stderr
    assert mark.read_text().startswith("started ")
    assert _tool_messages(fake.requests[1].body) == ["2"]


def test_errors_timeouts_and_a_crash_become_results_the_model_can_act_on(fake_glm, tmp_path: Path) -> None:
    _config({"calc": _calc(tool_timeout_s=5)})
    fake = fake_glm([
        _call("mcp__calc__fail", {"reason": "no"}, "c1"),
        _call("mcp__calc__sleep", {"seconds": 60}, "c2"),
        _call("mcp__calc__add", {"a": 2, "b": 2}, "c3"),
        _call("mcp__calc__crash", {}, "c4"),
        _call("mcp__calc__add", {"a": 1, "b": 2}, "c5"),
        {"content": "done"},
    ])
    proc = run_glmcode(["exec", "--full-auto", "try things"], tmp_path, _env(fake))
    assert proc.returncode == 0, proc.stderr
    results = _tool_messages(fake.requests[-1].body)
    failed, timed_out, after_timeout, crashed, after_crash = results
    assert failed.startswith("Error") and "cannot do that: no" in failed
    assert timed_out.startswith("Error:") and "did not answer within 5s (tool_timeout_s)" in timed_out
    assert after_timeout == "4"  # the server is still there after a call that hung
    assert crashed.startswith("Error:") and "went away" in crashed and "It stays unavailable for the rest of this run." in crashed
    assert after_crash.startswith("Error:") and "not running" in after_crash
    assert "crashing on purpose" in after_crash  # the tail of its stderr
    assert "MCP server calc went away" in proc.stderr and "crashing on purpose" in proc.stderr  # told when it happens
    assert proc.stdout == "done\n"


def test_servers_that_cannot_start_or_hang_are_named_and_the_run_goes_on(fake_glm, tmp_path: Path) -> None:
    hang = tmp_path / "hang.py"
    hang.write_text("import sys\nsys.stderr.write('hang: waiting forever\\n')\nsys.stdin.read()\n")
    _config({
        "ghost": {"command": str(tmp_path / "no-such-program")},
        "slow": {"command": sys.executable, "args": [str(hang)], "startup_timeout_s": 1},
        "calc": _calc(),
    })
    fake = fake_glm([_call("mcp__calc__add", {"a": 2, "b": 5}), {"content": "7"}])
    proc = run_glmcode(["exec", "--full-auto", "add"], tmp_path, _env(fake))
    assert proc.returncode == 0, proc.stderr
    assert "MCP server ghost is not available: the command was not found" in proc.stderr
    assert "MCP server slow is not available: it did not start within 1s (startup_timeout_s)" in proc.stderr
    assert "hang: waiting forever" in proc.stderr  # the tail of its stderr
    assert "Going on without it." in proc.stderr and "/mcp restart" not in proc.stderr  # exec has none
    assert "Waiting for MCP server" not in proc.stderr  # progress, for a terminal or --verbose only
    assert _tool_messages(fake.requests[1].body) == ["7"]


def test_without_full_auto_mcp_tools_need_a_rule(fake_glm, tmp_path: Path) -> None:
    _config({"calc": _calc()})
    fake = fake_glm([_call("mcp__calc__add", {"a": 2, "b": 3}), {"content": "refused"}])
    proc = run_glmcode(["exec", "add"], tmp_path, _env(fake))  # exec's default mode: auto-edit
    assert proc.returncode == 0, proc.stderr
    [refused] = _tool_messages(fake.requests[1].body)
    assert "needs approval in auto-edit mode" in refused and "mcp__calc__*" in refused

    config = Path(os.environ["XDG_CONFIG_HOME"]) / "glmcode" / "config.toml"
    config.write_text('[permissions]\nallow = ["mcp__calc__*"]\ndeny = ["mcp__calc__crash"]\n\n' + config.read_text())
    fake = fake_glm([_call("mcp__calc__add", {"a": 2, "b": 3}, "c1"), _call("mcp__calc__crash", {}, "c2"), {"content": "5"}])
    proc = run_glmcode(["exec", "add"], tmp_path, _env(fake))
    assert proc.returncode == 0, proc.stderr
    added, crashed = _tool_messages(fake.requests[2].body)
    assert added == "5" and "refused by the deny rule 'mcp__calc__crash'" in crashed


def _serve(flag: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, str(CALC), flag], stdout=subprocess.PIPE, text=True)
    url = proc.stdout.readline().strip()  # type: ignore[union-attr]
    assert url.startswith("http://127.0.0.1:"), url
    return proc, url


@pytest.fixture
def http_servers() -> Iterator[tuple[str, str]]:
    """The calc server over streamable HTTP and over SSE."""
    http, http_url = _serve("--http")
    sse, sse_url = _serve("--sse")
    try:
        yield http_url, sse_url
    finally:
        for proc in (http, sse):
            proc.terminate()
            proc.wait(10)


def test_http_and_sse_servers_from_mcp_config(fake_glm, tmp_path: Path, http_servers: tuple[str, str]) -> None:
    http_url, sse_url = http_servers
    servers = tmp_path / "ci-mcp.json"
    servers.write_text(json.dumps({"mcpServers": {
        "web": {"type": "http", "url": http_url, "startup_timeout_s": SLOW_START},
        "old": {"type": "sse", "url": sse_url, "startup_timeout_s": SLOW_START},
    }}))
    fake = fake_glm([_call("mcp__web__add", {"a": 20, "b": 22}, "c1"), _call("mcp__old__add", {"a": 1, "b": 1}, "c2"),
                     {"content": "42"}])
    proc = run_glmcode(["exec", "--full-auto", "--mcp-config", str(servers), "-o", "stream-json", "add"], tmp_path, _env(fake))
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    results = [(e["name"], e["output"], e["is_error"]) for e in events if e["type"] == "tool_result"]
    assert results == [("mcp__web__add", "42", False), ("mcp__old__add", "2", False)]
    assert _tool_messages(fake.requests[2].body) == ["42", "2"]


def test_servers_end_with_glmcode_even_when_it_is_terminated(fake_glm, tmp_path: Path) -> None:
    _config({"calc": _calc()})
    fake = fake_glm([_call("mcp__calc__pid", {}, "c1"), _call("mcp__calc__sleep", {"seconds": 60}, "c2"), {"content": "x"}])
    env = {**os.environ, **_env(fake)}
    proc = subprocess.Popen([sys.executable, "-m", "glmcode", "exec", "--full-auto", "-o", "stream-json", "go"],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    server_pid = None
    for line in proc.stdout:  # type: ignore[union-attr]
        event = json.loads(line)
        if event["type"] == "tool_result" and event["name"] == "mcp__calc__pid":
            server_pid = int(event["output"])
        if event["type"] == "tool_call" and event["name"] == "mcp__calc__sleep":
            proc.send_signal(signal.SIGTERM)
            break
    assert server_pid is not None
    assert proc.wait(30) == 130
    with pytest.raises(ProcessLookupError):
        os.kill(server_pid, 0)


def test_a_server_still_starting_ends_at_once_with_glmcode(fake_glm, tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    mute = tmp_path / "mute.py"  # never answers and never reads its stdin, so no EOF ends it
    mute.write_text(f"import os, pathlib, time\npathlib.Path({str(pid_file)!r}).write_text(str(os.getpid()))\ntime.sleep(600)\n")
    _config({"mute": {"command": sys.executable, "args": [str(mute)]}})
    fake = fake_glm([{"content": "x"}])
    env = {**os.environ, **_env(fake)}
    proc = subprocess.Popen([sys.executable, "-m", "glmcode", "exec", "--full-auto", "go"],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + SLOW_START
    while not pid_file.exists() or not pid_file.read_text():
        assert time.monotonic() < deadline and proc.poll() is None, "the server never started"
        time.sleep(0.02)
    server_pid = int(pid_file.read_text())
    proc.send_signal(signal.SIGINT)
    assert proc.wait(30) == 130
    with pytest.raises(ProcessLookupError):
        os.kill(server_pid, 0)
    assert fake.requests == []


def test_a_tool_list_change_reaches_the_next_request_of_the_same_run(fake_glm, tmp_path: Path) -> None:
    _config({"calc": _calc()})
    fake = fake_glm([_call("mcp__calc__grow", {}), _call("mcp__calc__extra", {}, "c2"), _call("mcp__calc__add", {"a": 2, "b": 3}, "c3"), {"content": "done"}])
    proc = run_glmcode(["exec", "-v", "--full-auto", "grow, then use the new tool"], tmp_path, _env(fake))
    assert proc.returncode == 0, proc.stderr
    assert '-> mcp__calc__add {"a":2,"b":3}' in proc.stderr  # verbose shows what a call was given
    first, second, *_, last = (r.body for r in fake.requests)
    names = [[t["function"]["name"] for t in body["tools"]] for body in (first, second)]
    assert "mcp__calc__extra" not in names[0] and "mcp__calc__extra" in names[1]
    assert _tool_messages(last) == ["grown", "extra!", "5"]


def test_mcp_get_shows_the_server_with_its_secrets_masked(tmp_path: Path) -> None:
    env = {"API_TOKEN": "short", "MARK": "/work/some/long/path/to/a/mark", "MODE": "fast", "OTHER": "sk0123456789abcdefXYZ"}
    _config({"calc": _calc(disabled_tools=["crash"])})
    config = Path(os.environ["XDG_CONFIG_HOME"]) / "glmcode" / "config.toml"
    with config.open("a") as f:
        f.write("[mcp_servers.calc.env]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in env.items()))
    proc = run_glmcode(["mcp", "get", "calc"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "env: API_TOKEN=****" in out and "short" not in out  # named like a secret, however short
    assert "env: MARK=/work/some/long/path/to/a/mark" in out and "env: MODE=fast" in out
    assert "env: OTHER=sk0…fXYZ" in out  # shaped like a key
    assert "status: ready · 8 tools, 7 offered" in out and "mcp__calc__add" in out
    assert "mcp__calc__crash  (not offered: enabled_tools/disabled_tools)" in out


def test_mcp_list_fails_when_a_server_does_not_start(tmp_path: Path) -> None:
    _config({"calc": _calc(), "gone": {"command": str(tmp_path / "no-such-server")}})
    (tmp_path / ".git").mkdir()
    (tmp_path / ".mcp.json").write_text('{"mcpServers": {"half": {"args": []}}}')
    proc = run_glmcode(["mcp", "list"], tmp_path)
    assert proc.returncode == 1
    assert "calc  stdio" in proc.stdout and "ready · 8 tools" in proc.stdout
    assert "gone  stdio" in proc.stdout and "failed: the command was not found" in proc.stdout
    assert "'mcpServers.half'" in proc.stderr and "glmcode leaves it out" in proc.stderr
    _config({"calc": _calc()})
    assert run_glmcode(["mcp", "list"], tmp_path).returncode == 0
    assert run_glmcode(["mcp", "list", "--no-check"], tmp_path).returncode == 0


def test_a_tool_whose_arguments_are_not_an_object_is_left_out_alone(fake_glm, tmp_path: Path) -> None:
    odd = Path(__file__).resolve().parent / "mcp_servers" / "odd.py"
    _config({"odd": {"command": sys.executable, "args": [str(odd)]}})
    fake = fake_glm([_call("mcp__odd__loose", {"n": 3}), {"content": "done"}])
    proc = run_glmcode(["exec", "--full-auto", "go"], tmp_path, _env(fake))
    assert proc.returncode == 0, proc.stderr
    offered = {t["function"]["name"]: t["function"]["parameters"] for t in fake.requests[0].body["tools"]}
    assert "mcp__odd__echo" in offered and "mcp__odd__pairs" not in offered
    assert offered["mcp__odd__loose"]["type"] == "object"  # a schema that only forgot its type is mended
    assert _tool_messages(fake.requests[1].body) == ['{"n": 3}']
    shown = run_glmcode(["mcp", "get", "odd"], tmp_path)
    assert "status: ready · 5 tools, 4 offered" in shown.stdout
    assert "pairs  (left out: its input schema describes array, not an object of arguments)" in shown.stdout


def test_a_result_that_breaks_the_protocol_or_its_schema_is_said_plainly(fake_glm, tmp_path: Path) -> None:
    odd = Path(__file__).resolve().parent / "mcp_servers" / "odd.py"
    _config({"odd": {"command": sys.executable, "args": [str(odd)]}})
    fake = fake_glm([_call("mcp__odd__garbled", {}), _call("mcp__odd__unkept", {}), {"content": "done"}])
    proc = run_glmcode(["exec", "--full-auto", "go"], tmp_path, _env(fake))
    assert proc.returncode == 0, proc.stderr
    garbled = _tool_messages(fake.requests[1].body)[0]
    unkept = _tool_messages(fake.requests[2].body)[-1]
    assert garbled.startswith("Error: the MCP server odd answered with no valid tool result (content.0.")
    assert "and 12 more)" in garbled and "pydantic" not in garbled
    assert unkept == (
        "Error: the MCP server odd's answer cannot be used: its structured content breaks the tool's "
        "own output schema: 'count' is a required property"
    )


def test_an_http_server_that_refuses_is_named_with_its_status(tmp_path: Path, http_servers: tuple[str, str]) -> None:
    import http.server
    import threading

    class Refusing(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (the standard library's name)
            self.send_response(401)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    door = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Refusing)
    threading.Thread(target=door.serve_forever, daemon=True).start()
    try:
        locked = f"http://127.0.0.1:{door.server_address[1]}/mcp"
        _config({"locked": {"url": locked}, "wrong": {"url": http_servers[1]}})  # an SSE server taken for HTTP
        proc = run_glmcode(["mcp", "list"], tmp_path)
    finally:
        door.shutdown()
    assert f"{locked} answered HTTP 401 (check the token or headers)" in proc.stdout
    assert f'{http_servers[1]} answered HTTP 405 (is the URL right? an SSE server needs transport = "sse")' in proc.stdout


def test_a_server_that_writes_other_things_to_stdout_still_works_and_stays_quiet(fake_glm, tmp_path: Path) -> None:
    chatty = tmp_path / "chatty.py"
    chatty.write_text(f"import runpy, sys\nprint('calc server 1.0 starting', flush=True)\nsys.argv = [{str(CALC)!r}]\n"
                      f"runpy.run_path({str(CALC)!r}, run_name='__main__')\n")
    _config({"calc": {"command": sys.executable, "args": [str(chatty)]}})
    fake = fake_glm([_call("mcp__calc__add", {"a": 2, "b": 3}), {"content": "5"}])
    proc = run_glmcode(["exec", "--full-auto", "add"], tmp_path, _env(fake))
    assert proc.returncode == 0, proc.stderr
    assert _tool_messages(fake.requests[1].body) == ["5"]
    assert "Traceback" not in proc.stderr and "JSONRPC" not in proc.stderr


def test_mcp_add_says_when_a_secret_goes_into_the_file_as_it_is(tmp_path: Path) -> None:
    literal = run_glmcode(["mcp", "add", "docs", "--url", "https://example.com/mcp", "--header", "Authorization=Bearer sk-12345678901234567"], tmp_path)
    assert literal.returncode == 0, literal.stderr
    assert "note: --header Authorization is written into ~/.config/glmcode/config.toml as it is" in literal.stdout
    referred = run_glmcode(["mcp", "add", "wiki", "--url", "https://example.com/wiki", "--header", "Authorization=Bearer ${WIKI_TOKEN}",
                            "--header", "X-Team=core"], tmp_path)
    assert referred.returncode == 0, referred.stderr
    assert "note:" not in referred.stdout


def test_mcp_add_says_which_definition_of_a_name_the_project_uses(tmp_path: Path) -> None:
    json_file = tmp_path / ".mcp.json"
    json_file.write_text(json.dumps({"mcpServers": {"calc": {"command": "calc-server"}}}))
    user = run_glmcode(["mcp", "add", "calc", "--", sys.executable, str(CALC)], tmp_path)
    assert user.returncode == 0, user.stderr
    assert (f"note: {json_file} also defines calc; once you trust this project, "
            "that one takes the place of the one just added\n") in user.stdout
    trust_project(tmp_path, os.environ)
    project = run_glmcode(["mcp", "add", "calc", "--scope", "project", "--", sys.executable, str(CALC)], tmp_path)
    assert project.returncode == 0, project.stderr
    notes = [line for line in project.stdout.splitlines() if line.startswith("note:")]
    assert notes == ["note: ~/.config/glmcode/config.toml also defines calc; the one just added takes its place in this project",
                     f"note: {json_file} also defines calc; the one just added takes its place in this project"]
    json_file.unlink()
    (tmp_path / ".glmcode" / "config.toml").unlink()
    assert run_glmcode(["mcp", "remove", "calc", "--scope", "user"], tmp_path).returncode == 0
    json_file.write_text(json.dumps({"mcpServers": {"calc": {"command": "calc-server"}}}))
    again = run_glmcode(["mcp", "add", "calc", "--", sys.executable, str(CALC)], tmp_path)
    assert f"note: {json_file} also defines calc; in this project that one takes the place of the one just added" in again.stdout
    other = run_glmcode(["mcp", "add", "other", "--", sys.executable, str(CALC)], tmp_path)
    assert "note:" not in other.stdout


def test_mcp_add_saves_a_relative_file_as_an_absolute_path_in_the_users_file(tmp_path: Path) -> None:
    tools = tmp_path / "tools"
    tools.mkdir()
    (tools / "server.py").write_text(CALC.read_text())
    added = run_glmcode(["mcp", "add", "calc", "--", sys.executable, "server.py", "--port", "7"], tools)
    assert added.returncode == 0, added.stderr
    full = str((tools / "server.py").resolve())
    assert f"note: server.py is saved as {full}" in added.stdout
    shown = run_glmcode(["mcp", "get", "calc"], tmp_path)
    assert full in shown.stdout
    # A project scope keeps the path as given: it names the project's own file.
    (tools / ".git").mkdir()
    project = run_glmcode(["mcp", "add", "local", "--scope", "project", "--", sys.executable, "server.py"], tools)
    assert project.returncode == 0, project.stderr
    assert "is saved as" not in project.stdout
    assert '"server.py"' in (tools / ".glmcode" / "config.toml").read_text()


def test_mcp_remove_leaves_the_projects_files_alone_unless_told(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    json_file = tmp_path / ".mcp.json"
    json_file.write_text(json.dumps({"mcpServers": {"calc": {"command": "calc-server"}}}))
    assert run_glmcode(["mcp", "add", "calc", "--", sys.executable, str(CALC)], tmp_path).returncode == 0
    removed = run_glmcode(["mcp", "remove", "calc"], tmp_path)
    assert removed.returncode == 0, removed.stderr
    assert removed.stdout == "removed MCP server calc from ~/.config/glmcode/config.toml\n"
    assert "calc" in json.loads(json_file.read_text())["mcpServers"]
    again = run_glmcode(["mcp", "remove", "calc"], tmp_path)
    assert again.returncode == 1
    assert "this project defines it (remove it there with --scope project)" in again.stderr
    project = run_glmcode(["mcp", "remove", "calc", "--scope", "project"], tmp_path)
    assert project.returncode == 0, project.stderr
    assert json.loads(json_file.read_text())["mcpServers"] == {}


def test_mcp_list_says_an_untrusted_projects_server_is_not_started_rather_than_overriding(tmp_path: Path) -> None:
    _config({"calc": _calc()})
    (tmp_path / ".mcp.json").write_text(json.dumps({"mcpServers": {"calc": {"command": "npx", "args": ["calc"]}}}))
    rows = run_glmcode(["mcp", "list", "--no-check"], tmp_path).stdout.splitlines()
    project_row = next(row for row in rows if "npx" in row)
    user_row = next(row for row in rows if "npx" not in row)
    assert project_row.endswith("not started: the project is not trusted (glmcode trust)")
    assert user_row.endswith("enabled")
    trust_project(tmp_path, os.environ)
    rows = run_glmcode(["mcp", "list", "--no-check"], tmp_path).stdout.splitlines()
    assert next(row for row in rows if "npx" in row).endswith("enabled")
    assert "overridden by" in next(row for row in rows if "npx" not in row)
