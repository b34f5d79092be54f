"""web_fetch as its own permission kind: asked per host, rules on the host without the port."""

from __future__ import annotations

import pytest

from glmcode.permissions.policy import Policy, suggest_rule
from glmcode.permissions.rules import Rule
from glmcode.permissions.targets import names_inward_host


def _decide(policy: Policy, url: str) -> str:
    return policy.decide("web_fetch", "web", {"url": url}).decision


@pytest.mark.parametrize("mode", ["ask", "auto-edit", "read-only"])
def test_each_host_asks_until_allowed(mode: str) -> None:
    policy = Policy(mode)
    verdict = policy.decide("web_fetch", "web", {"url": "https://docs.python.org/3/"})
    assert verdict.decision == "ask"
    assert verdict.reason == f"web_fetch reaches docs.python.org; it needs approval in {mode} mode"


def test_full_auto_fetches_without_asking() -> None:
    assert _decide(Policy("full-auto"), "https://example.org/") == "allow"


def test_a_host_rule_matches_the_host_without_the_port() -> None:
    policy = Policy("ask", allow=["web_fetch:docs.python.org", "web_fetch:*.github.com"])
    assert _decide(policy, "https://docs.python.org/3/library/") == "allow"
    assert _decide(policy, "http://DOCS.python.org:8080/x") == "allow"
    assert _decide(policy, "https://api.github.com/repos") == "allow"
    assert _decide(policy, "https://raw.objects.github.com/x") == "allow"
    assert _decide(policy, "https://github.com/") == "ask"  # *.github.com names subdomains only
    assert _decide(policy, "https://evil-docs.python.org.example/") == "ask"
    assert _decide(policy, "https://python.org/") == "ask"


def test_rules_allow_in_read_only_mode_too() -> None:
    # Reading a page changes nothing, so plan mode keeps the user's web rules.
    assert _decide(Policy("read-only", allow=["web_fetch:docs.python.org"]), "https://docs.python.org/") == "allow"


def test_a_deny_rule_refuses_a_host_in_every_mode() -> None:
    policy = Policy("full-auto", allow=["web_fetch"], deny=["web_fetch:*.example.org"])
    verdict = policy.decide("web_fetch", "web", {"url": "https://ads.example.org/x"})
    assert verdict.decision == "deny" and "web_fetch:*.example.org" in verdict.reason
    assert _decide(policy, "https://example.net/") == "allow"


def test_the_always_answer_suggests_the_host() -> None:
    assert suggest_rule("web_fetch", {"url": "https://Docs.Python.org:443/3/"}) == "web_fetch:docs.python.org"
    assert suggest_rule("web_fetch", {"url": "not a url"}) is None
    policy = Policy("ask")
    policy.allow_for_session("web_fetch:docs.python.org")
    assert _decide(policy, "https://docs.python.org/other") == "allow"
    assert _decide(policy, "https://pypi.org/") == "ask"


def test_a_rule_names_a_host_only_by_more_than_wildcards() -> None:
    policy = Policy("full-auto", allow=["web_fetch:*", "web_fetch:localhost", "web_fetch:*.corp.internal"])
    assert policy.names_host("localhost")
    assert policy.names_host("wiki.corp.internal")
    assert not policy.names_host("127.0.0.1")
    assert not Policy("full-auto", allow=["web_fetch"]).names_host("127.0.0.1")
    session = Policy("ask")
    session.allow_for_session("web_fetch:127.0.0.1")
    assert session.names_host("127.0.0.1")


@pytest.mark.parametrize("text", ["web_fetch:https://docs.python.org", "web_fetch:localhost:8000",
                                  "web_fetch:docs.python.org/3/"])
def test_a_rule_with_a_url_says_to_name_the_host(text: str) -> None:
    with pytest.raises(ValueError, match="a web_fetch rule names a host, without scheme, port or path"):
        Rule.parse(text)


def test_web_search_runs_unasked_like_a_read() -> None:
    # The query goes to the provider that already holds the conversation.
    assert Policy("ask").decide("web_search", "read", {"query": "x"}).decision == "allow"


@pytest.mark.parametrize("url, inward", [
    ("http://localhost:8080/", True),
    ("http://app.localhost/", True),
    ("http://127.0.0.1:9000/x", True),
    ("http://10.1.2.3/", True),
    ("http://[::1]:8000/", True),
    ("http://169.254.169.254/latest", True),
    ("https://docs.python.org/3/", False),
    ("https://8.8.8.8/", False),
])
def test_a_host_named_as_this_machine_or_a_private_network_is_seen_as_inward(url: str, inward: bool) -> None:
    assert names_inward_host({"url": url}) is inward
