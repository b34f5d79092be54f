"""The web tools in the interactive session: asked per domain, "always this domain", the
search counted in /cost. The real `glmcode` in a pseudo-terminal, the fake GLM, a real page
server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tui_harness import Term
from web_pages import Pages

from glmcode.testing import search, search_result


@pytest.fixture
def pages() -> Iterator[Pages]:
    server = Pages().start()
    yield server
    server.close()


@pytest.fixture
def term_for(fake_glm, tmp_path: Path) -> Iterator:
    terms: list[Term] = []

    def start(turns: list, **fake_options) -> tuple[Term, object]:
        fake = fake_glm(turns, **fake_options)
        term = Term([], tmp_path, fake.base_url)
        terms.append(term)
        term.wait(lambda _: "(shift-tab)" in term.bottom())
        return term, fake

    yield start
    for term in terms:
        term.close()


def _fetch(url: str) -> dict:
    return {"tool_calls": [{"name": "web_fetch", "arguments": {"url": url}}]}


def test_always_this_domain_allows_the_host_for_the_session_only(term_for, pages, tmp_path) -> None:
    first = pages.add("/one", "<h1>Page one</h1>")
    second = pages.add("/two", "<h1>Page two</h1>")
    elsewhere = pages.url("/one", host="localhost")
    term, fake = term_for([_fetch(first), {"content": "Read one."}, _fetch(second), {"content": "Read two."},
                           _fetch(elsewhere), {"content": "Asked again."}])
    term.send("read the first page\r")
    screen = term.wait("always this domain")
    assert "web_fetch reaches 127.0.0.1; it needs approval in ask mode" in screen
    assert "p always web_fetch:127.0.0.1" in screen
    term.send("d")
    term.wait("Read one.")
    assert "# Page one" in fake.requests[1].body["messages"][-1]["content"]
    term.send("and the second\r")
    term.wait("Read two.")
    assert "# Page two" in fake.requests[3].body["messages"][-1]["content"]
    assert pages.hits == ["/one", "/two"]
    term.send("and on localhost\r")
    screen = term.wait("web_fetch reaches localhost")
    term.send("n")
    term.wait("Why not?")
    term.send("\r")
    term.wait("Asked again.")
    assert "declined" in fake.requests[5].body["messages"][-1]["content"]
    assert not (tmp_path / ".glmcode" / "config.toml").exists()  # nothing saved to the project


def test_yes_once_still_refuses_a_loopback_host_no_rule_names(term_for, pages) -> None:
    url = pages.add("/one", "<h1>Page one</h1>")
    term, fake = term_for([_fetch(url), {"content": "Could not."}])
    term.send("read it\r")
    term.wait("always this domain")
    term.send("y")
    term.wait("Could not.")
    content = fake.requests[1].body["messages"][-1]["content"]
    assert "127.0.0.1 is a loopback address" in content and "web_fetch:127.0.0.1" in content
    assert pages.hits == []


def test_a_search_runs_unasked_and_cost_counts_it(term_for) -> None:
    turns = [{"tool_calls": [{"name": "web_search", "arguments": {"query": "glmcode"}}]}, {"content": "Searched."}]
    term, _ = term_for(turns, searches=[search([search_result("glmcode", "https://example.org/", "a tool")])])
    term.send("search it\r")
    term.wait("Searched.")
    term.send("/cost\r")
    screen = term.wait(lambda shown: "web searches" in shown and "$0.0100" in shown)  # the table arrives in pieces
    line = next(row for row in screen.splitlines() if "web searches" in row)
    assert line.split()[-1] == "1"
