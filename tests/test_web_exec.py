"""The web tools in `glmcode exec` as a new user meets them: a real process, the fake GLM for
the model, a real HTTP server on 127.0.0.1 for the page."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import run_glmcode
from web_pages import Pages

from glmcode.testing import search, search_result

KEY = "test-key-2b7e151628aed2a6"
PAGE = ("<html><head><title>Release notes</title></head><body><h1>Release 2.0</h1>"
        "<p>The <code>--fast</code> flag is new.</p><pre><code class=\"language-sh\">tool --fast</code></pre>"
        "</body></html>")


@pytest.fixture
def pages() -> Iterator[Pages]:
    server = Pages().start()
    yield server
    server.close()


def _env(fake) -> dict[str, str]:
    return {"ZAI_API_KEY": KEY, "GLMCODE_BASE_URL": fake.base_url}


def _fetch_turns(url: str) -> list[dict]:
    return [{"tool_calls": [{"name": "web_fetch", "arguments": {"url": url}}]}, {"content": "Read it."}]


def _user_config(home: Path, text: str) -> None:
    path = home / ".config" / "glmcode" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_with_a_rule_the_page_reaches_the_next_request_as_markdown(fake_glm, pages, tmp_path, isolated_home) -> None:
    url = pages.add("/notes", PAGE)
    _user_config(isolated_home, '[permissions]\nallow = ["web_fetch:127.0.0.1"]\n')
    fake = fake_glm(_fetch_turns(url))
    proc = run_glmcode(["exec", "--full-auto", "what changed?"], tmp_path, _env(fake))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "Read it.\n"
    tool_message = fake.requests[1].body["messages"][-1]
    assert tool_message["role"] == "tool"
    assert "# Release 2.0" in tool_message["content"]
    assert "The `--fast` flag is new." in tool_message["content"]
    assert "```sh\ntool --fast\n```" in tool_message["content"]
    assert "untrusted data" in tool_message["content"]


def test_without_the_rule_the_call_is_refused_and_the_model_told_why(fake_glm, pages, tmp_path) -> None:
    url = pages.add("/notes", PAGE)
    fake = fake_glm(_fetch_turns(url))
    proc = run_glmcode(["exec", "--full-auto", "what changed?"], tmp_path, _env(fake))
    assert proc.returncode == 0, proc.stderr
    content = fake.requests[1].body["messages"][-1]["content"]
    assert content.startswith("Error: web_fetch: refused")
    assert "127.0.0.1 is a loopback address (this machine)" in content
    assert "web_fetch:127.0.0.1" in content
    assert pages.hits == []


def test_in_the_default_mode_exec_refuses_and_says_how_to_allow(fake_glm, pages, tmp_path) -> None:
    url = pages.add("/notes", PAGE)
    fake = fake_glm(_fetch_turns(url))
    proc = run_glmcode(["exec", "what changed?"], tmp_path, _env(fake))
    assert proc.returncode == 0, proc.stderr
    content = fake.requests[1].body["messages"][-1]["content"]
    assert "web_fetch reaches 127.0.0.1; it needs approval in auto-edit mode" in content
    assert "'web_fetch:127.0.0.1'" in content
    assert "no mode does" in content
    assert "Refused web_fetch" in proc.stderr
    # --full-auto would not open this machine either, so the hint names only the rule.
    assert "the rule 'web_fetch:127.0.0.1' under [permissions] allow" in proc.stderr
    assert "--full-auto" not in proc.stderr


def test_stream_json_shows_the_web_tools_and_the_search_is_counted(fake_glm, pages, tmp_path) -> None:
    turns = [{"tool_calls": [{"name": "web_search", "arguments": {"query": "release notes"}}]},
             {"content": "Found it."}]
    fake = fake_glm(turns, searches=[search([search_result("Notes", "https://example.org/n", "2.0 is out")])])
    proc = run_glmcode(["exec", "-o", "stream-json", "find the notes"], tmp_path, _env(fake))
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    started = next(e for e in events if e["type"] == "tool_call")
    assert started["name"] == "web_search" and started["arguments"]["query"] == "release notes"
    finished = next(e for e in events if e["type"] == "tool_result")
    assert not finished["is_error"] and "1. Notes\n   https://example.org/n" in finished["output"]
    assert finished["data"]["searches"] == 1
    result = events[-1]
    model_cost = sum(e["cost_usd"] for e in events if e["type"] == "usage")
    assert result["type"] == "result" and result["cost_usd"] == pytest.approx(model_cost + 0.01, abs=1e-5)


def test_no_web_turns_both_tools_off(fake_glm, tmp_path) -> None:
    fake = fake_glm([{"content": "ok"}])
    proc = run_glmcode(["exec", "--no-web", "hi"], tmp_path, _env(fake))
    assert proc.returncode == 0, proc.stderr
    names = [t["function"]["name"] for t in fake.requests[0].body["tools"]]
    assert "web_fetch" not in names and "web_search" not in names and "read_file" in names


@pytest.mark.parametrize("provider", ["openrouter", "cometapi"])
def test_a_reseller_is_offered_web_fetch_but_no_search_it_could_not_run(fake_glm, tmp_path, provider) -> None:
    fake = fake_glm([{"content": "ok"}])
    proc = run_glmcode(["exec", "--provider", provider, "--base-url", fake.base_url, "hi"], tmp_path,
                       {"GLMCODE_API_KEY": KEY})
    assert proc.returncode == 0, proc.stderr
    names = [t["function"]["name"] for t in fake.requests[0].body["tools"]]
    assert "web_fetch" in names and "web_search" not in names and "read_file" in names
    config = run_glmcode(["config", "--provider", provider], tmp_path, {"GLMCODE_API_KEY": KEY}).stdout
    assert f"web tools:      web_fetch; no web_search with provider {provider}" in config


def test_web_false_in_the_config_turns_them_off_and_config_shows_it(fake_glm, tmp_path, isolated_home) -> None:
    _user_config(isolated_home, 'web = false\nweb_fetch_model = "glm-4.5-flash"\n')
    fake = fake_glm([{"content": "ok"}])
    assert run_glmcode(["exec", "hi"], tmp_path, _env(fake)).returncode == 0
    assert "web_fetch" not in json.dumps(fake.requests[0].body["tools"])
    config = run_glmcode(["config"], tmp_path, {"ZAI_API_KEY": KEY}).stdout
    table, after = config.split("\n\n", 1)
    shown = {line.split()[0]: line.split()[1:] for line in table.splitlines()}
    assert "web tools:      off (web = false)" in after
    assert shown["web"][0] == "false" and shown["web"][1].endswith("config.toml:1)")
    assert shown["web_fetch_model"][0] == "glm-4.5-flash"


def _imported(stderr: str) -> set[str]:
    return {line.rsplit("|", 1)[-1].strip() for line in stderr.splitlines() if line.startswith("import time:")}


def test_a_trivial_turn_never_imports_the_converter(fake_glm, tmp_path) -> None:
    fake = fake_glm([{"content": "ok"}])
    proc = run_glmcode(["exec", "hi"], tmp_path, {**_env(fake), "PYTHONPROFILEIMPORTTIME": "1"})
    assert proc.returncode == 0, proc.stderr
    modules = _imported(proc.stderr)
    assert "glmcode.web.access" in modules  # the timing output is there to be read
    assert not {m for m in modules if m.startswith(("html_to_markdown", "glmcode.web.fetch", "httpcore._sync.connection_pool_guard"))}
    version = run_glmcode(["--version"], tmp_path, {"PYTHONPROFILEIMPORTTIME": "1"})
    assert not {m for m in _imported(version.stderr) if m.startswith(("html_to_markdown", "glmcode.web"))}


def test_fix_reads_a_page_under_the_same_rules(fake_glm, pages, git_repo, isolated_home) -> None:
    import subprocess
    import sys

    (git_repo / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    subprocess.run(["git", "add", "."], cwd=git_repo, check=True)
    subprocess.run(["git", "commit", "-qm", "start"], cwd=git_repo, check=True)
    url = pages.add("/spec", "<h1>add</h1><p>add returns the sum of a and b.</p>")
    _user_config(isolated_home, '[permissions]\nallow = ["web_fetch:127.0.0.1"]\n')
    edit = {"tool_calls": [{"name": "edit_file", "arguments": {"path": "calc.py", "old_string": "a - b", "new_string": "a + b"}}]}
    fake = fake_glm([*_fetch_turns(url)[:1], edit, {"content": "Fixed after reading the spec."}])
    check = f"{sys.executable} -c \"from calc import add; raise SystemExit(add(2, 3) != 5)\""
    proc = run_glmcode(["fix", "make add follow the spec", "--check", check], git_repo, _env(fake))
    assert proc.returncode == 0, proc.stderr
    assert "add returns the sum of a and b." in fake.requests[1].body["messages"][-1]["content"]
    assert (git_repo / "calc.py").read_text() == "def add(a, b):\n    return a + b\n"
