"""web_search through the Coding Plan's web search MCP server: a real server written with the SDK
(tests/mcp_servers/prime.py) over streamable HTTP on 127.0.0.1 under the plan's path, glmcode
run with `exec` against the fake GLM on a Coding Plan endpoint. Also how its answers are read."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import run_glmcode

from glmcode.mcp.state import RemoteResult
from glmcode.testing import search_error
from glmcode.web.errors import WebError
from glmcode.web.search_mcp import prime_hits

PRIME = Path(__file__).resolve().parent / "mcp_servers" / "prime.py"
KEY = "test-key-7c4f0e9b2a1d3856"
SLOW_START = 60  # a server written in Python takes seconds to import its SDK on a busy machine


@dataclass
class Prime:
    url: str
    log: Path

    def calls(self) -> list[dict]:
        return [json.loads(line) for line in self.log.read_text().splitlines()] if self.log.exists() else []


@pytest.fixture
def prime(tmp_path: Path) -> Iterator[Prime]:
    log = tmp_path / "prime-calls.jsonl"
    proc = subprocess.Popen([sys.executable, str(PRIME)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True, env={**os.environ, "PRIME_LOG": str(log)})
    url = proc.stdout.readline().strip()  # type: ignore[union-attr]
    assert url.startswith("http://127.0.0.1:"), url
    try:
        yield Prime(url, log)
    finally:
        proc.terminate()
        proc.wait(10)


def _servers(**servers: str) -> None:
    """Servers in the user's config file, as the preset writes them, at these URLs."""
    path = Path(os.environ["XDG_CONFIG_HOME"]) / "glmcode" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(
        f'[mcp_servers.{name}]\nurl = "{url}"\nbearer_token_env_var = "GLMCODE_API_KEY"\n'
        f"startup_timeout_s = {SLOW_START}\n\n" for name, url in servers.items()
    ))


def _coding(fake: object) -> dict[str, str]:
    base = fake.base_url.replace("/api/paas/v4", "/api/coding/paas/v4")  # type: ignore[attr-defined]
    return {"ZAI_API_KEY": KEY, "GLMCODE_BASE_URL": base, "GLMCODE_PROVIDER": "zai-coding"}


def _search(call_id: str, query: str, **args: object) -> dict:
    return {"tool_calls": [{"name": "web_search", "arguments": {"query": query, **args}, "id": call_id}]}


def _tool_messages(body: dict) -> list[str]:
    return [m["content"] for m in body["messages"] if m["role"] == "tool"]


def _events(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines()]


def test_a_coding_plan_key_searches_through_the_server_and_the_search_is_counted(fake_glm, prime, tmp_path) -> None:
    _servers(search=prime.url)  # not the preset's name: the URL's path says what it is
    fake = fake_glm([_search("c1", "asyncio taskgroup", recency="week", domain="docs.python.org", count=1),
                     {"content": "Found the docs."}])
    proc = run_glmcode(["exec", "--full-auto", "-o", "stream-json", "look it up"], tmp_path, _coding(fake))
    assert proc.returncode == 0, proc.stderr

    [call] = prime.calls()
    assert call["args"] == {"search_query": "asyncio taskgroup", "search_recency_filter": "oneWeek",
                            "search_domain_filter": "docs.python.org", "content_size": "medium", "location": "us"}
    assert call["authorization"] == f"Bearer {KEY}"
    assert not [r for r in fake.requests if r.path.endswith("/web_search")]  # not the REST API

    [result] = _tool_messages(fake.requests[1].body)
    assert result.startswith("Web search for 'asyncio taskgroup' (last week, on docs.python.org): 1 result.")
    assert ("1. asyncio taskgroup — the docs\n   https://docs.example.org/guide\n"
            "   2025-09-30 · Example Docs\n   All about asyncio taskgroup.") in result
    assert "Release notes" not in result  # count=1

    events = _events(proc.stdout)
    started = next(e for e in events if e["type"] == "tool_call")
    assert started["name"] == "web_search"
    finished = next(e for e in events if e["type"] == "tool_result")
    assert finished["data"] == {"query": "asyncio taskgroup", "results": 1, "searches": 1, "cost_usd": 0.0,
                                "engine": "webSearchPrime", "mcp_server": "search"}
    model_cost = sum(e["cost_usd"] for e in events if e["type"] == "usage")
    assert events[-1]["type"] == "result" and events[-1]["cost_usd"] == pytest.approx(model_cost, abs=1e-5)  # each event is rounded to 6 places

    # One search tool for the model: the server's own is left out while web_search uses it.
    names = [t["function"]["name"] for t in fake.requests[0].body["tools"]]
    assert "web_search" in names and not [n for n in names if n.startswith("mcp__search__")]


def test_without_web_tools_the_servers_own_search_is_offered(fake_glm, prime, tmp_path) -> None:
    _servers(search=prime.url)
    fake = fake_glm([{"content": "ok"}])
    proc = run_glmcode(["exec", "--no-web", "hi"], tmp_path, _coding(fake))
    assert proc.returncode == 0, proc.stderr
    names = [t["function"]["name"] for t in fake.requests[0].body["tools"]]
    assert "mcp__search__webSearchPrime" in names and "web_search" not in names


def test_a_coding_plan_key_without_the_server_is_told_how_to_add_it(fake_glm, tmp_path) -> None:
    fake = fake_glm([_search("c1", "anything"), {"content": "Told."}],
                    searches=[search_error(429, "1113", "Insufficient balance or no resource package")])
    proc = run_glmcode(["exec", "look it up"], tmp_path, _coding(fake))
    assert proc.returncode == 0, proc.stderr
    [result] = _tool_messages(fake.requests[-1].body)
    assert result.startswith("Error: web_search: the search service refused the search: GLM error 1113")
    assert "`glmcode mcp add --preset zai-web-search` adds" in result
    assert fake.requests[1].path == "/api/paas/v4/web_search"


def test_a_pay_as_you_go_key_the_api_will_not_bill_turns_to_the_server(fake_glm, prime, tmp_path) -> None:
    _servers(**{"zai-web-search": prime.url})
    fake = fake_glm([_search("c1", "first"), _search("c2", "second"), {"content": "Both."}],
                    searches=[search_error(429, "1113", "Insufficient balance")])
    env = {"ZAI_API_KEY": KEY, "GLMCODE_BASE_URL": fake.base_url}
    proc = run_glmcode(["exec", "look twice"], tmp_path, env)  # exec's default mode: web_search needs no rule
    assert proc.returncode == 0, proc.stderr
    first, second = _tool_messages(fake.requests[-1].body)
    assert first.startswith("Web search for 'first': 2 results.") and "first — the docs" in first
    assert second.startswith("Web search for 'second': 2 results.")
    # The API was asked once; from its refusal on, the server answers.
    assert len([r for r in fake.requests if r.path.endswith("/web_search")]) == 1
    assert [c["args"]["search_query"] for c in prime.calls()] == ["first", "second"]


def test_the_servers_errors_reach_the_model_and_the_run_goes_on(fake_glm, prime, tmp_path) -> None:
    _servers(search=prime.url)
    fake = fake_glm([_search("c1", "fail now"), _search("c2", "garbled please"), _search("c3", "crash now"),
                     _search("c4", "after the crash"), {"content": "Carried on."}])
    proc = run_glmcode(["exec", "--full-auto", "search"], tmp_path, _coding(fake))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "Carried on.\n"
    failed, garbled, crashed, after = _tool_messages(fake.requests[-1].body)
    assert failed.startswith("Error: web_search: the MCP server search refused the search:")
    assert "search failed: quota exceeded" in failed
    assert garbled == ("Error: web_search: the MCP server search answered webSearchPrime with something glmcode "
                       "cannot read as search results: Service busy, try later")
    assert crashed.startswith("Error: web_search: the MCP server search stopped answering during the call")
    assert "It stays unavailable for the rest of this run." in crashed  # exec has no /mcp restart
    assert after.startswith("Error: web_search: the MCP server search went away during the call: cannot reach")
    assert "It stays unavailable" in after
    assert "Traceback" not in proc.stderr


def test_a_server_that_did_not_start_is_named_with_its_error(fake_glm, tmp_path) -> None:
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}/api/mcp/web_search_prime/mcp"
    _servers(search=closed)
    fake = fake_glm([_search("c1", "anything"), {"content": "No search."}])
    proc = run_glmcode(["exec", "look it up"], tmp_path, _coding(fake))
    assert proc.returncode == 0, proc.stderr
    [result] = _tool_messages(fake.requests[-1].body)
    assert result.startswith("Error: web_search: web_search goes through the MCP server search, which is not running: ")
    assert result.endswith("It stays unavailable for the rest of this run.")
    assert "MCP server search is not available" in proc.stderr


def _text(*texts: str, structured: object = None, is_error: bool = False) -> RemoteResult:
    return RemoteResult(texts, structured, (), is_error)


HIT = {"refer": "ref_1", "title": "T", "link": "https://t.example/", "media": "Site", "content": "c  d",
       "icon": "", "publish_date": "2025-01-02"}


@pytest.mark.parametrize(
    "result",
    [
        _text(json.dumps(json.dumps([HIT]))),  # as the plan's server sends it
        _text(json.dumps([HIT])),
        _text(json.dumps({"search_result": [HIT]})),
        _text(structured={"result": json.dumps([HIT])}),
    ],
    ids=["string-of-json", "json", "wrapped", "structured"],
)
def test_the_shapes_of_an_answer_are_read(result: RemoteResult) -> None:
    [hit] = prime_hits(result, "s")
    assert (hit.title, hit.url, hit.date, hit.site, hit.summary) == ("T", "https://t.example/", "2025-01-02", "Site", "c d")


def test_an_empty_list_is_no_results_and_an_unreadable_answer_is_named() -> None:
    assert prime_hits(_text('"[]"'), "s") == []
    with pytest.raises(WebError, match=r"answered webSearchPrime with something glmcode cannot read .*: \{\"items\": 3\}"):
        prime_hits(_text('{"items": 3}'), "s")
    with pytest.raises(WebError, match="answered webSearchPrime with nothing"):
        prime_hits(_text(), "s")
    with pytest.raises(WebError, match="refused the search: MCP error -401: bad key"):
        prime_hits(_text("MCP error -401: bad key", is_error=True), "s")


def test_in_the_session_cost_counts_the_search_and_mcp_names_the_tool_left_out(fake_glm, prime, tmp_path) -> None:
    from tui_harness import Term

    _servers(search=prime.url)
    fake = fake_glm([_search("c1", "glmcode"), {"content": "Searched."}])
    env = _coding(fake)
    term = Term([], tmp_path, env["GLMCODE_BASE_URL"], {"GLMCODE_PROVIDER": env["GLMCODE_PROVIDER"]})
    try:
        term.wait(lambda _: "(shift-tab)" in term.bottom())
        term.send("search it\r")
        term.wait("Searched.", timeout=SLOW_START)
        term.wait(lambda _: "(shift-tab)" in term.bottom())
        term.send("/cost\r")
        screen = term.wait("web searches")
        assert next(row for row in screen.splitlines() if "web searches" in row).split()[-1] == "1"
        term.wait(lambda _: "(shift-tab)" in term.bottom())
        term.send("/mcp\r")
        screen = term.wait("left out: webSearchPrime: web_search searches through it")
        assert "● search  ready" in screen and "0 tools" in screen
    finally:
        term.close()
    assert [c["args"]["search_query"] for c in prime.calls()] == ["glmcode"]
